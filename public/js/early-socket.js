// The early start: inlined in the head of every page (see src/app/early_start.rs).
(function () {
  // A page the browser brings back from its back-forward cache is loaded again: after
  // Log out it must not show what it showed before, and a terminal resumes its shell.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) location.reload();
  });
  var meta = document.querySelector("meta[name=podterm-socket]");
  if (!meta) return;
  try {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var separator = meta.content.indexOf("?") < 0 ? "?" : "&";
    // A shell to resume rather than start: handed over by the dashboard (`resume=` in the
    // address, taken out of it here), or this page's own before a reload.
    var key = "podterm.session " + meta.content;
    var params = new URLSearchParams(location.search);
    var resume = params.get("resume");
    if (resume) {
      params.delete("resume");
      var query = params.toString();
      history.replaceState(history.state, "", location.pathname + (query ? "?" + query : ""));
    } else {
      try {
        resume = sessionStorage.getItem(key);
      } catch (error) {
        resume = null;
      }
    }
    var attach;
    if (resume) {
      attach = separator + "resume=" + encodeURIComponent(resume) + "&offset=0";
    } else {
      // The session the server started for this page, when it did.
      var session = document.querySelector("meta[name=podterm-session]");
      attach = session && session.content
        ? separator + "start=" + encodeURIComponent(session.content)
        : "";
    }
    var socket = new WebSocket(scheme + location.host + meta.content + attach);
    socket.binaryType = "arraybuffer";
    var started = { path: meta.content, socket: socket, events: [], resume: resume || null };
    socket.onopen = socket.onmessage = socket.onclose = function (event) {
      started.events.push(event);
    };
    // Keys typed ahead with nothing focused, until the terminal is made (xterm-bridge.mjs
    // sends them then): text, Enter, Backspace, Tab, Escape. The browser keeps the others
    // (its shortcuts among them).
    var named = { Enter: "\r", Backspace: "\x7f", Tab: "\t", Escape: "\x1b" };
    started.typed = [];
    var keep = function (event) {
      if (event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (document.activeElement && document.activeElement !== document.body) return;
      var data = event.key.length === 1 ? event.key : named[event.key];
      if (!data) return;
      event.preventDefault();
      started.typed.push(data);
    };
    document.addEventListener("keydown", keep);
    started.stopKeeping = function () {
      document.removeEventListener("keydown", keep);
    };
    window.podtermEarlySocket = started;
  } catch (error) {
    console.warn("podterm: could not connect early", error);
  }
})();
