// Prime Now storefront: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Search as you type: fetch suggestions (an HTML list of links) as the shopper types.
  function setupSuggest(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var url = input.dataset.suggestUrl;
    var timer = null, lastQuery = "", active = -1;
    function close() {
      list.hidden = true; list.innerHTML = ""; active = -1;
      input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant");
    }
    function options() { return list.querySelectorAll("[role=option]"); }
    function highlight(index) {
      var items = options();
      items.forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && items[index]) input.setAttribute("aria-activedescendant", items[index].id);
    }
    function fetchSuggestions() {
      var q = input.value.trim();
      if (q === lastQuery) return;
      lastQuery = q;
      if (q.length < 2) { close(); return; }
      fetch(url + "?q=" + encodeURIComponent(q), { headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) {
          if (input.value.trim() !== q) return;
          list.innerHTML = html;
          var any = options().length > 0;
          list.hidden = !any; active = -1;
          input.setAttribute("aria-expanded", any ? "true" : "false");
        })
        .catch(close);
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(fetchSuggestions, 150); });
    input.addEventListener("keydown", function (e) {
      var items = options();
      if (list.hidden || !items.length) return;
      if (e.key === "ArrowDown") { e.preventDefault(); highlight((active + 1) % items.length); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(active <= 0 ? items.length - 1 : active - 1); }
      else if (e.key === "Enter" && active >= 0) { e.preventDefault(); window.location = items[active].querySelector("a").href; }
      else if (e.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 200); });
  }

  // Tracking: re-fetch the status panel every few seconds until the order is final.
  function setupRefresh(panel) {
    var seconds = parseInt(panel.dataset.refreshSeconds || "0", 10);
    var url = panel.dataset.refreshUrl;
    if (!seconds || !url) return;
    setTimeout(function () {
      fetch(url, { headers: { "X-Requested-With": "fetch" }, cache: "no-store" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("#tracking-status");
          if (!fresh) return;
          panel.replaceWith(fresh);
          setupRefresh(fresh);
        })
        .catch(function () { setupRefresh(panel); });
    }, seconds * 1000);
  }

  // Checkout: say which window is chosen, next to the button (the radios may be in a closed tab).
  function setupWindowChoice(form) {
    var out = document.getElementById("chosen-window");
    if (!out) return;
    function show() {
      var checked = form.querySelector("input[name=window]:checked");
      var label = checked && checked.closest("label");
      out.hidden = !label;
      if (label) out.textContent = "Delivery: " + label.textContent.trim();
    }
    form.addEventListener("change", function (e) { if (e.target.name === "window") show(); });
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Wide screens have room for the filters: open the disclosure (phones keep results first).
    if (window.matchMedia("(min-width: 48rem)").matches) {
      document.querySelectorAll("details.filters-panel").forEach(function (d) { d.open = true; });
    }
    var checkout = document.querySelector("form.checkout");
    if (checkout) setupWindowChoice(checkout);
    document.querySelectorAll("input[data-suggest-url]").forEach(setupSuggest);
    var panel = document.getElementById("tracking-status");
    if (panel) setupRefresh(panel);
  });
})();
