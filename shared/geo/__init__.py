"""Offline geography of the Greater Region: a geopy geocoder over a committed GeoNames
extract (places, alternate names, postcodes), place resolution with ambiguity detection,
and distance helpers.

* :mod:`shared.geo.gazetteer` -- ``GazetteerGeocoder``, a ``geopy`` geocoder that never
  touches the network, and the cached ``load_gazetteer()`` data loader.
* :mod:`shared.geo.resolve` -- ``resolve_place()``: found / ambiguous / unknown, for any
  geopy geocoder.
* :mod:`shared.geo.distance` -- ``geodesic_km()`` and ``country_of()``.

Data: GeoNames (https://www.geonames.org/), CC BY 4.0; see ``shared/data/README.md``.
"""
