// infra-policy policy site: stance filter and search. No network: the search
// index is a script file shipped with the site, loaded on first use.
(function () {
  "use strict";
  var root = document.body.getAttribute("data-root") || "";

  // --- filter by stance (overview) ---
  var filters = document.querySelector(".filters");
  if (filters) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("table.decisions tbody tr"));
    var buttons = Array.prototype.slice.call(filters.querySelectorAll("button.filter"));
    var status = document.getElementById("filter-status");
    filters.hidden = false;
    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        var wanted = button.getAttribute("data-filter");
        var shown = 0;
        buttons.forEach(function (b) { b.setAttribute("aria-pressed", b === button ? "true" : "false"); });
        rows.forEach(function (row) {
          var visible = wanted === "all" || row.getAttribute("data-stance") === wanted;
          row.hidden = !visible;
          if (visible) { shown += 1; }
        });
        if (status) {
          status.textContent = wanted === "all" ? "" : "Showing " + shown + " " + wanted + " decision" + (shown === 1 ? "" : "s") + ".";
        }
      });
    });
  }

  // --- folded detail: a link to something inside a closed <details> opens it ---
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
    if (target) { target.scrollIntoView(); }
  }
  window.addEventListener("hashchange", reveal);
  if (location.hash) { reveal(); }

  // --- search ---
  var input = document.getElementById("search-input");
  var list = document.getElementById("search-results");
  if (!input || !list) { return; }
  var waiting = null;

  // Load the index once; whoever asked last is called when it arrives.
  function loadIndex(then) {
    if (window.INFRA_POLICY_SEARCH) { then(); return; }
    if (waiting === null) {
      var script = document.createElement("script");
      script.src = root + "search-index.js";
      script.addEventListener("load", function () { waiting(); });
      document.head.appendChild(script);
    }
    waiting = then;
  }

  function render() {
    var query = input.value.trim().toLowerCase();
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (!query) { list.hidden = true; return; }
    var words = query.split(/\s+/);
    var found = (window.INFRA_POLICY_SEARCH || []).filter(function (entry) {
      var text = (entry[1] + " " + entry[2] + " " + entry[0]).toLowerCase();
      return words.every(function (w) { return text.indexOf(w) !== -1; });
    }).slice(0, 12);
    if (!found.length) {
      var none = document.createElement("li");
      none.className = "none";
      none.textContent = "Nothing matches.";
      list.appendChild(none);
    }
    found.forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = root + entry[3];
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = entry[0];
      var sub = document.createElement("span");
      sub.className = "sub";
      sub.textContent = entry[2];
      link.appendChild(kind);
      link.appendChild(document.createTextNode(entry[1]));
      link.appendChild(sub);
      item.appendChild(link);
      list.appendChild(item);
    });
    list.hidden = false;
  }

  input.addEventListener("focus", function () { loadIndex(function () {}); });
  input.addEventListener("input", function () { loadIndex(render); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { input.value = ""; render(); }
    if (event.key === "ArrowDown") {
      var first = list.querySelector("a");
      if (first) { event.preventDefault(); first.focus(); }
    }
  });
  list.addEventListener("keydown", function (event) {
    var links = Array.prototype.slice.call(list.querySelectorAll("a"));
    var at = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < links.length - 1) { event.preventDefault(); links[at + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? links[at - 1] : input).focus(); }
    if (event.key === "Escape") { input.focus(); input.value = ""; render(); }
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest(".search")) { list.hidden = true; }
  });
})();
