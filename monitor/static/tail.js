// Live tail: adds each event from the server-sent stream at the top of the list.
(function () {
  "use strict";
  var list = document.getElementById("tail");
  if (!list || !window.EventSource) { return; }
  var status = document.getElementById("tail-status");
  var url = new URL(list.dataset.stream, window.location.href);
  url.searchParams.set("since", list.dataset.since);
  var source = new EventSource(url.toString());

  function text(tag, content, className) {
    var node = document.createElement(tag);
    node.textContent = content;
    if (className) { node.className = className; }
    return node;
  }

  function render(item) {
    var li = document.createElement("li");
    li.className = "card tail-item";
    li.dataset.seq = item.seq;
    li.dataset.eventId = item.id;
    var head = document.createElement("p");
    head.appendChild(text("strong", item.type || "(not an event)"));
    head.appendChild(document.createTextNode(
      " · " + item.topic + "[" + item.partition + "]@" + item.offset + " · " + item.timestamp +
      (item.key ? " · key " + item.key : "")));
    li.appendChild(head);
    if (item.error) { li.appendChild(text("p", item.error, "error")); }
    var details = document.createElement("details");
    details.appendChild(text("summary", "Envelope and payload"));
    details.appendChild(text("pre", item.envelope ? JSON.stringify(item.envelope, null, 2) : ""));
    details.appendChild(text("pre", typeof item.payload === "string" ? item.payload : JSON.stringify(item.payload, null, 2)));
    li.appendChild(details);
    return li;
  }

  source.onopen = function () { status.textContent = list.dataset.liveLabel; };
  source.onerror = function () { status.textContent = list.dataset.lostLabel; };
  source.addEventListener("message", function (message) {
    var item = JSON.parse(message.data);
    var where = item.topic + "/" + item.partition + "/" + item.offset;
    // A message written while the page loaded is both on the page and in the feed.
    if (list.querySelector("[data-where='" + CSS.escape(where) + "']")) { return; }
    var empty = list.querySelector(".empty");
    if (empty) { empty.remove(); }
    var li = render(item);
    li.dataset.where = where;
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 200) { list.removeChild(list.lastChild); }
  });
})();
