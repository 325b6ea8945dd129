// condorweb live log viewer: streams a log over a websocket into [data-log-ws] elements.
// Lines are always inserted as text (textContent), never as markup. Without this file
// the page still shows the server-rendered tail and the download link.
(function () {
  "use strict";

  const MAX_LINES = 20000; // kept in the page; the download has everything
  const STOP_CODES = { 4400: "stopped: the console did not understand this viewer", 4401: "stopped: log in again", 4403: "stopped: not allowed", 4404: "stopped: no such daemon or log", 4503: "stopped: log unavailable" };
  const ERROR_RE = /\b(error|errors|failed|failure|fatal|exception|abort(ed)?|denied|refused)\b/i;
  const WARN_RE = /\b(warn|warning|retrying|timed? ?out)\b/i;

  function classify(div, text) {
    div.className = ERROR_RE.test(text) ? "l-error" : WARN_RE.test(text) ? "l-warn" : "";
  }

  function LogViewer(root) {
    this.root = root;
    this.pane = root.querySelector("[data-log-lines]");
    this.status = root.querySelector("[data-log-status]");
    this.count = root.querySelector("[data-log-count]");
    this.daemonState = root.querySelector("[data-log-daemon]");
    this.pausedInfo = root.querySelector("[data-log-paused]");
    this.pauseButton = root.querySelector("[data-log-pause]");
    this.follow = root.querySelector("[data-log-follow]");
    this.filterInput = root.querySelector("[data-log-filter]");
    this.regexBox = root.querySelector("[data-log-regex]");
    this.filterError = root.querySelector("[data-log-filter-error]");
    this.file = root.dataset.logFile || "";
    this.offset = root.dataset.logOffset ? parseInt(root.dataset.logOffset, 10) : null;
    this.paused = false;
    this.held = []; // lines received while paused, the last MAX_LINES of them: shown on resume
    this.heldCount = 0;
    this.total = this.pane.children.length;
    this.matcher = null;
    this.delay = 500;
    this.stopped = false;
    this.socket = null;

    root.querySelectorAll("[data-log-js]").forEach((el) => { el.hidden = false; });
    this.pauseButton.hidden = false;
    Array.prototype.forEach.call(this.pane.children, (div) => classify(div, div.textContent));
    this.pauseButton.addEventListener("click", () => this.togglePause());
    this.filterInput.addEventListener("input", () => this.setFilter());
    this.regexBox.addEventListener("change", () => this.setFilter());
    this.follow.addEventListener("change", () => this.scroll());
    this.updateCount();
    this.scroll();
    if (!root.hasAttribute("data-log-unavailable")) this.connect();
  }

  LogViewer.prototype.url = function () {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    let url = scheme + window.location.host + this.root.dataset.logWs;
    if (this.offset !== null) {
      url += "?file=" + encodeURIComponent(this.file) + "&offset=" + this.offset;
    }
    return url;
  };

  LogViewer.prototype.setStatus = function (text, kind) {
    this.status.textContent = text;
    this.status.className = "conn conn-" + kind;
  };

  LogViewer.prototype.connect = function () {
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.delay = 500;
      this.setStatus("connected", "connected");
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => {
      if (STOP_CODES[event.code]) {
        this.stopped = true;
        this.setStatus(STOP_CODES[event.code], "stopped");
        return;
      }
      this.setStatus("reconnecting…", "reconnecting");
      const wait = this.delay;
      this.delay = Math.min(this.delay * 2, 15000);
      window.setTimeout(() => this.connect(), wait + Math.random() * 250);
    });
  };

  LogViewer.prototype.receive = function (raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch (e) {
      return;
    }
    if (message.type === "lines") {
      // Resume from the last byte received, whether shown yet or held while paused.
      this.file = message.file;
      this.offset = message.end;
      if (this.paused) {
        for (const line of message.lines) this.held.push(line);
        // The page would drop older ones on resume anyway; a long pause must not grow without end.
        if (this.held.length > MAX_LINES) this.held.splice(0, this.held.length - MAX_LINES);
        this.heldCount += message.lines.length;
        this.pausedInfo.textContent = this.heldCount + " new lines while paused";
      } else {
        this.append(message.lines);
      }
    } else if (message.type === "state") {
      if (message.state === "following" && message.file) {
        this.file = message.file;
        this.offset = message.offset;
      }
      if (message.state !== "following") this.append(["── " + message.message + " ──"], "l-mark");
      if (message.state === "unavailable") this.setStatus(message.message, "stopped");
    } else if (message.type === "daemon") {
      this.append(["── " + message.message + " ──"], "l-mark");
      if (this.daemonState) this.daemonState.textContent = message.message;
    } else if (message.type === "command") {
      this.append(["── " + message.message + " ──"], "l-mark");
    }
  };

  LogViewer.prototype.append = function (lines, cls) {
    const fragment = document.createDocumentFragment();
    for (const text of lines) {
      const div = document.createElement("div");
      div.textContent = text;
      if (cls) div.className = cls; else classify(div, text);
      if (!cls && this.matcher && !this.matcher(text)) div.hidden = true; // state marks stay in view
      fragment.appendChild(div);
    }
    this.pane.appendChild(fragment);
    if (!cls) this.total += lines.length;
    while (this.pane.children.length > MAX_LINES) this.pane.removeChild(this.pane.firstChild);
    this.updateCount();
    this.scroll();
  };

  LogViewer.prototype.updateCount = function () {
    let text = this.total + " lines";
    if (this.pane.children.length < this.total) text += " (last " + this.pane.children.length + " shown; download for all)";
    this.count.textContent = text;
  };

  LogViewer.prototype.scroll = function () {
    if (this.follow.checked && !this.paused) this.pane.scrollTop = this.pane.scrollHeight;
  };

  LogViewer.prototype.togglePause = function () {
    this.paused = !this.paused;
    this.pauseButton.textContent = this.paused ? "Resume" : "Pause";
    this.pauseButton.setAttribute("aria-pressed", String(this.paused));
    if (!this.paused) {
      const held = this.held;
      this.total += this.heldCount - held.length; // counted, though no longer kept
      this.held = [];
      this.heldCount = 0;
      this.pausedInfo.textContent = "";
      this.append(held);
    }
  };

  LogViewer.prototype.setFilter = function () {
    const text = this.filterInput.value;
    this.filterError.textContent = "";
    this.matcher = null;
    if (text) {
      if (this.regexBox.checked) {
        try {
          const re = new RegExp(text, "i");
          this.matcher = (line) => re.test(line);
        } catch (e) {
          this.filterError.textContent = "Not a valid regular expression: " + e.message;
          return;
        }
      } else {
        const needle = text.toLowerCase();
        this.matcher = (line) => line.toLowerCase().indexOf(needle) >= 0;
      }
    }
    for (const div of this.pane.children) {
      div.hidden = this.matcher !== null && !div.classList.contains("l-mark") && !this.matcher(div.textContent);
    }
  };

  function start() {
    document.querySelectorAll("[data-log-ws]").forEach((root) => {
      if (!root.logViewer) root.logViewer = new LogViewer(root);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
