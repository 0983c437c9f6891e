// Jiesu pages: deadline countdowns, keyboard shortcuts, sortable tables, charts.
// Small and dependency-free; htmx and ECharts are loaded by the pages that use them.
(function () {
  "use strict";

  function fmt(ms) {
    var s = Math.floor(Math.abs(ms) / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    var t = (d ? d + "d " : "") + (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m + ":" + (s % 60 < 10 ? "0" : "") + (s % 60);
    return (ms < 0 ? "-" : "") + t;
  }

  // Countdowns tick from data-deadline (epoch ms); amber after data-warn, red when overdue.
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var deadline = +el.dataset.deadline, warn = +(el.dataset.warn || deadline);
      el.textContent = fmt(deadline - now);
      el.classList.toggle("late", now > deadline);
      el.classList.toggle("soon", now <= deadline && now >= warn);
    });
  }

  // Ctrl+Enter submits the form with its default button; Alt+1..3 click the numbered picks.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      var form = e.target.closest && e.target.closest("form[data-ctrl-enter]");
      if (form) {
        e.preventDefault();
        var btn = form.querySelector("[data-default]");
        if (form.requestSubmit) form.requestSubmit(btn || undefined); else form.submit();
      }
    }
    if (e.altKey && /^[1-9]$/.test(e.key)) {
      var pick = document.querySelector('[data-pick="' + e.key + '"]');
      if (pick) { e.preventDefault(); pick.click(); }
    }
  });

  // Suggested units fill the dispatch form's lead / co-handler fields.
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-fill-unit]");
    if (!b) return;
    var form = document.querySelector("form input[name=lead]");
    if (!form) return;
    var lead = document.querySelector("input[name=lead]"), co = document.querySelector("input[name=co]");
    var code = b.dataset.fillUnit;
    if (b.dataset.fillRole === "lead" || !lead.value) { lead.value = code; }
    else if (co.value.split(/[,\s]+/).indexOf(code) < 0) { co.value = co.value ? co.value + ", " + code : code; }
  });

  // 使用我的位置 (issue 20): the browser's position (WGS-84) fills the form's hidden lat/lon.
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-locate]");
    if (!b) return;
    var form = b.closest("form"), out = form && form.querySelector("[data-located]");
    if (!form || !out) return;
    if (!navigator.geolocation) { out.textContent = b.dataset.fail; return; }
    out.textContent = b.dataset.busy;
    navigator.geolocation.getCurrentPosition(function (p) {
      form.querySelector("input[name=lat]").value = p.coords.latitude.toFixed(6);
      form.querySelector("input[name=lon]").value = p.coords.longitude.toFixed(6);
      form.querySelector("input[name=coord_system]").value = "wgs84";
      out.textContent = b.dataset.ok + " " + p.coords.latitude.toFixed(5) + ", " + p.coords.longitude.toFixed(5);
    }, function () { out.textContent = b.dataset.fail; }, { enableHighAccuracy: true, timeout: 15000 });
  });

  // "Go back" links return to the previous page when there is one.
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[data-back]");
    if (a && history.length > 1) { e.preventDefault(); history.back(); }
  });

  // Sortable tables: click a th[data-sort]; numbers sort as numbers.
  document.addEventListener("click", function (e) {
    var th = e.target.closest && e.target.closest("table.sortable th[data-sort]");
    if (!th) return;
    var table = th.closest("table"), body = table.tBodies[0], idx = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asc = !th.classList.contains("asc");
    table.querySelectorAll("th").forEach(function (h) { h.classList.remove("asc", "desc"); });
    th.classList.add(asc ? "asc" : "desc");
    var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return r.cells.length > idx; });
    function key(r) { var t = r.cells[idx].textContent.trim(), n = parseFloat(t.replace(/[%,]/g, "")); return isNaN(n) ? t : n; }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b), c = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y), "zh");
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });

  function charts() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      try {
        var opt = JSON.parse(el.dataset.chart);
        if (!opt.series) { el.style.display = "none"; return; }
        echarts.init(el).setOption(opt);
        el.dataset.drawn = "1";
      } catch (err) { el.textContent = String(err); }
    });
  }

  // Attachments (issue 20): a form with data-upload sends its one file as the raw body of a
  // POST to that address (streamed by the server, never a multipart form), with the page's
  // CSRF token for a logged-in user, then reloads the page to show it.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.dataset || !form.dataset.upload) return;
    e.preventDefault();
    var input = form.querySelector("input[type=file]"), file = input && input.files[0];
    if (!file) return;
    var url = form.dataset.upload + (form.dataset.upload.indexOf("?") < 0 ? "?" : "&") + "name=" + encodeURIComponent(file.name);
    // Each ticked box goes along as name=true (public for attachments, dry_run for imports).
    form.querySelectorAll("input[type=checkbox][name]").forEach(function (box) {
      if (box.checked) url += "&" + encodeURIComponent(box.name) + "=true";
    });
    var headers = { "Content-Type": "application/octet-stream" }, hx = document.body.getAttribute("hx-headers");
    try { if (hx) headers["X-CSRF-Token"] = JSON.parse(hx)["X-CSRF-Token"]; } catch (err) { /* no token: anonymous */ }
    var status = form.querySelector("[data-upload-status]");
    if (status) status.textContent = "…";
    fetch(url, { method: "POST", body: file, headers: headers, credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (body) {
        // An answer that says what it did (an import's counts) is shown as it is.
        if (r.ok && body && body.message) { if (status) status.textContent = body.message; return; }
        if (r.ok) { if (form.dataset.uploadDone) { if (status) status.textContent = form.dataset.uploadDone + " " + file.name; form.reset(); } else location.reload(); return; }
        var fields = (body.error && body.error.fields) || [];
        var said = fields.slice(0, 5).map(function (f) { return f.message; }).join(" · ");
        if (status) status.textContent = said || (body.error && body.error.message) || r.status;
      });
    }).catch(function (err) { if (status) status.textContent = String(err); });
  });
  // District maps (issue 20): data-map = { geo: URL of the city's GeoJSON (same origin, WGS-84),
  // metrics: [{key, label, data: [{name, value, code}]}] coloured one at a time with buttons,
  // href: where a click on a district goes (its code appended); or layers: [{name, type,
  // data: [[lon, lat, size, label, href]]}] drawn as scatter points over the districts }.
  // Nothing is fetched from outside this server.
  function maps() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-map]").forEach(function (el) {
      if (el.dataset.drawn) return;
      el.dataset.drawn = "1";
      var cfg;
      try { cfg = JSON.parse(el.dataset.map); } catch (err) { el.textContent = String(err); return; }
      fetch(cfg.geo, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
        if (!geo.features || !geo.features.length) { el.classList.add("empty"); el.textContent = "—"; return; }
        echarts.registerMap("jiesu-city", geo);
        var chart = echarts.init(el);
        el.jiesuChart = chart;
        var base = { animation: false, tooltip: { trigger: "item" } };
        if (cfg.metrics) {
          var bar = document.createElement("div");
          bar.className = "map-metrics";
          el.parentNode.insertBefore(bar, el);
          var show = function (m) {
            bar.querySelectorAll("button").forEach(function (b) { b.classList.toggle("on", b.dataset.key === m.key); });
            var vals = m.data.map(function (d) { return d.value; }).filter(function (v) { return v !== null; });
            chart.setOption(Object.assign({}, base, {
              visualMap: { min: vals.length ? Math.min.apply(null, vals) : 0, max: vals.length ? Math.max.apply(null, vals) : 1, calculable: true, left: 10, bottom: 10, text: [m.label, ""], inRange: { color: ["#e0f3f8", "#fdae61", "#d73027"] } },
              series: [{ type: "map", map: "jiesu-city", name: m.label, data: m.data, selectedMode: false, label: { show: true, fontSize: 10 }, emphasis: { label: { show: true } } }]
            }), true);
            el.dataset.metric = m.key;
          };
          cfg.metrics.forEach(function (m) {
            var b = document.createElement("button");
            b.type = "button"; b.textContent = m.label; b.dataset.key = m.key;
            b.setAttribute("data-testid", "map-metric-" + m.key);
            b.addEventListener("click", function () { show(m); });
            bar.appendChild(b);
          });
          show(cfg.metrics[0]);
          chart.on("click", function (p) {
            if (p.data && p.data.code && cfg.href) location.href = cfg.href + encodeURIComponent(p.data.code);
          });
        } else {
          chart.setOption(Object.assign({}, base, {
            legend: { top: 0 },
            geo: { map: "jiesu-city", roam: true, label: { show: true, fontSize: 10, color: "#666" }, itemStyle: { areaColor: "#f4f6f8", borderColor: "#999" } },
            series: (cfg.layers || []).map(function (l) {
              return { name: l.name, type: l.type || "scatter", coordinateSystem: "geo", data: l.data,
                symbolSize: function (v) { return Math.min(40, 6 + 4 * Math.sqrt(v[2] || 1)); },
                tooltip: { formatter: function (p) { return p.seriesName + ": " + (p.value[3] || "") + " (" + p.value[2] + ")"; } } };
            })
          }));
          chart.on("click", function (p) { if (p.value && p.value[4]) location.href = p.value[4]; });
        }
        el.dataset.ready = "1";
      }).catch(function (err) { el.textContent = String(err); });
    });
  }

  // The portal's map pin (issue 20): the city's districts (WGS-84 GeoJSON from this server),
  // zoomable; a click puts the pin there and fills the form's lat/lon (datum WGS-84).
  function pins() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-pin-map]").forEach(function (el) {
      if (el.dataset.drawn) return;
      el.dataset.drawn = "1";
      var form = el.closest("form"), out = form && form.querySelector("[data-located]");
      if (!form) return;
      fetch(el.dataset.pinMap, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
        if (!geo.features || !geo.features.length) { el.hidden = true; return; }
        echarts.registerMap("jiesu-pin", geo);
        var chart = echarts.init(el);
        el.jiesuChart = chart;
        chart.setOption({ animation: false,
          geo: { map: "jiesu-pin", roam: true, scaleLimit: { min: 1, max: 40 }, label: { show: true, fontSize: 10, color: "#666" }, itemStyle: { areaColor: "#f4f6f8", borderColor: "#999" }, emphasis: { itemStyle: { areaColor: "#fde0dc" } } },
          series: [{ type: "scatter", coordinateSystem: "geo", symbol: "pin", symbolSize: 28, symbolOffset: [0, "-50%"], itemStyle: { color: "#c8102e" }, data: [] }] });
        chart.getZr().on("click", function (e) {
          var p = chart.convertFromPixel({ geoIndex: 0 }, [e.offsetX, e.offsetY]);
          if (!p || !isFinite(p[0]) || !isFinite(p[1])) return;
          form.querySelector("input[name=lat]").value = p[1].toFixed(6);
          form.querySelector("input[name=lon]").value = p[0].toFixed(6);
          form.querySelector("input[name=coord_system]").value = "wgs84";
          chart.setOption({ series: [{ data: [[p[0], p[1]]] }] });
          if (out) out.textContent = el.dataset.ok + " " + p[1].toFixed(5) + ", " + p[0].toFixed(5);
        });
        el.dataset.ready = "1";
      }).catch(function () { el.hidden = true; });
    });
  }

  window.addEventListener("load", function () { tick(); setInterval(tick, 1000); charts(); maps(); pins(); });
  document.addEventListener("htmx:afterSwap", function () { tick(); charts(); maps(); pins(); });
})();
