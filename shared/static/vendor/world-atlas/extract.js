// Borders of the Greater Region's countries and their neighbours, from world-atlas 50m.
const topojson = require(process.cwd() + "/topojson-client-3.1.0/package/dist/topojson-client.js");
const atlas = require(process.cwd() + "/world-atlas-2.0.2/package/countries-50m.json");
const keep = new Set(["250", "276", "056", "442", "528", "756"]); // FR DE BE LU NL CH
const all = topojson.feature(atlas, atlas.objects.countries);
const round = (c) => Array.isArray(c[0]) ? c.map(round) : [Math.round(c[0] * 1000) / 1000, Math.round(c[1] * 1000) / 1000];
all.features = all.features.filter((f) => keep.has(f.id)).map((f) => ({type: "Feature", id: f.id, properties: {name: f.properties.name}, geometry: {type: f.geometry.type, coordinates: round(f.geometry.coordinates)}}));
process.stdout.write(JSON.stringify(all));
