// The early start: inlined in the head of every page (see src/app/early_start.rs).
(function () {
  var meta = document.querySelector("meta[name=podterm-socket]");
  if (!meta) return;
  try {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    // The session the server started for this page, when it did.
    var session = document.querySelector("meta[name=podterm-session]");
    var claim = session && session.content
      ? (meta.content.indexOf("?") < 0 ? "?" : "&") + "start=" + encodeURIComponent(session.content)
      : "";
    var socket = new WebSocket(scheme + location.host + meta.content + claim);
    socket.binaryType = "arraybuffer";
    var started = { path: meta.content, socket: socket, events: [] };
    socket.onopen = socket.onmessage = socket.onclose = function (event) {
      started.events.push(event);
    };
    window.podtermEarlySocket = started;
  } catch (error) {
    console.warn("podterm: could not connect early", error);
  }
})();
