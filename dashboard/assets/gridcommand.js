/* GridCommand browser code: Leaflet styling/marker functions (referenced by name from dash-leaflet props)
   and the clientside callbacks of the command center and the wall. Leaflet wants [lat, lon]; our data is (lon, lat). */
(function () {
  "use strict";

  // ---- an ended session (idle/absolute timeout, disabled account, signed out elsewhere): back to sign-in ----
  const nativeFetch = window.fetch.bind(window);
  let leaving = false;
  window.fetch = function (input, init) {
    return nativeFetch(input, init).then(function (response) {
      const url = typeof input === "string" ? input : (input && input.url) || "";
      if (response.status === 401 && !leaving && /\/_dash-|\/api\/v1\//.test(url) && url.indexOf("/auth/") < 0) {
        leaving = true;
        window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
      }
      return response;
    });
  };

  // ---- coordinates: WGS-84 -> GCJ-02 / BD-09 for Chinese base maps (display only; mirrors geo/crs.py) ----
  const A = 6378245.0, EE = 0.00669342162296594323, XPI = Math.PI * 3000.0 / 180.0;
  function outOfChina(lon, lat) { return !(lon > 73.66 && lon < 135.05 && lat > 3.86 && lat < 53.55); }
  function tLat(x, y) {
    let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function tLon(x, y) {
    let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function wgsToGcj(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    let dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
    const rad = lat / 180 * Math.PI, magic = 1 - EE * Math.sin(rad) ** 2, sm = Math.sqrt(magic);
    dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * sm) * Math.PI);
    dLon = (dLon * 180) / (A / sm * Math.cos(rad) * Math.PI);
    return [lon + dLon, lat + dLat];
  }
  function gcjToBd(lon, lat) {
    const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * XPI);
    const th = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * XPI);
    return [z * Math.cos(th) + 0.0065, z * Math.sin(th) + 0.006];
  }
  /** The one display conversion: stored WGS-84 (lon, lat) -> the base map's system. */
  function toDisplay(lon, lat) {
    const el = document.querySelector("[data-crs]");  // set by the page from settings.tile_url
    const crs = el ? el.getAttribute("data-crs") : "wgs84";
    if (crs === "gcj02") return wgsToGcj(lon, lat);
    if (crs === "bd09") { const g = wgsToGcj(lon, lat); return gcjToBd(g[0], g[1]); }
    return [lon, lat];
  }

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }

  /** Load colour: teal (light) -> amber -> red (heaviest). */
  function heat(ratio) {
    const stops = [[14, 116, 144], [245, 158, 11], [239, 68, 68]];
    const x = Math.max(0, Math.min(1, ratio)) * 2, i = Math.min(1, Math.floor(x)), f = x - i;
    const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
    return "rgb(" + c.join(",") + ")";
  }

  // ---- Leaflet functions referenced from dash-leaflet (window.gc.map.*) ----
  const map = {
    displayCoords: function (coords) {
      const p = toDisplay(coords[0], coords[1]);
      return L.latLng(p[1], p[0]);
    },
    gridStyle: function (feature, context) {
      const h = (context && context.hideout) || {};
      const load = (h.load || {})[feature.properties.code];
      const ratio = load && load.open ? Math.min(1, load.open / Math.max(1, h.max || 1)) : 0;
      if (h.kind === "street") {
        const style = {color: "#5eead4", weight: 2.2, opacity: 0.9, fillOpacity: 0};
        if (h.shade && ratio) { style.fillColor = heat(ratio); style.fillOpacity = 0.15 + 0.5 * ratio; }
        return style;
      }
      if (h.kind === "community") {
        const style = {color: "#2dd4bf", weight: 0.8, opacity: 0.5, fillColor: "#0ea5e9", fillOpacity: 0.03};
        if (ratio) { style.fillColor = heat(ratio); style.fillOpacity = 0.08 + 0.32 * ratio; }
        if (load && load.overdue && !h.shade) { style.color = "#f87171"; style.opacity = 0.8; }
        return style;
      }
      return {color: "#64748b", weight: 0.4, opacity: 0.6, fillOpacity: 0.0, fill: true};
    },
    incidentPoint: function (feature, latlng, context) {
      const p = feature.properties;
      const cls = ["gc-inc", "gc-s-" + p.s, "gc-u-" + (p.u || 1)];
      if (p.o) cls.push("gc-overdue");
      const size = p.u >= 3 ? 20 : p.u === 2 ? 16 : 13;
      const icon = L.divIcon({className: "gc-inc-wrap", html: '<div class="' + cls.join(" ") + '" data-id="' + esc(p.id) + '"></div>',
                              iconSize: [size, size], iconAnchor: [size / 2, size / 2]});
      const m = L.marker(latlng, {icon: icon, riseOnHover: true, zIndexOffset: p.o ? 1000 : p.u * 100});
      const strings = (context && context.hideout && context.hideout.strings) || {};
      m.bindTooltip('<b>' + esc(p.cn || p.c || "") + '</b> · ' + esc(strings["status_" + p.s] || p.s) +
                    (p.o ? ' · <span class="gc-tt-late">' + esc(strings.overdue_flag || "OVERDUE") + '</span>' : "") +
                    '<br>' + esc(p.d), {direction: "top", offset: [0, -8], className: "gc-tooltip"});
      return m;
    },
    incidentCluster: function (feature, latlng, index, context) {
      const n = feature.properties.point_count;
      const leaves = index.getLeaves(feature.properties.cluster_id, Infinity);
      const late = leaves.some(l => l.properties.o);
      const size = n < 10 ? 30 : n < 100 ? 36 : 44;
      const icon = L.divIcon({className: "gc-inc-wrap", html: '<div class="gc-cluster' + (late ? " gc-cluster-late" : "") +
                              '"><span>' + n + '</span></div>', iconSize: [size, size], iconAnchor: [size / 2, size / 2]});
      return L.marker(latlng, {icon: icon, zIndexOffset: late ? 2000 : 500});
    },
    officerPoint: function (feature, latlng, context) {
      const p = feature.properties;
      const heading = (p.heading == null || isNaN(p.heading)) ? null : Number(p.heading);
      const arrow = heading == null ? "" : '<i class="gc-off-arrow" style="transform: rotate(' + heading + 'deg)"></i>';
      const icon = L.divIcon({className: "gc-off-wrap", html: '<div class="gc-off gc-os-' + esc(p.status) + '" data-officer="' +
                              esc(p.id) + '">' + arrow + '<b></b></div>', iconSize: [22, 22], iconAnchor: [11, 11]});
      const m = L.marker(latlng, {icon: icon, zIndexOffset: 3000});
      const strings = (context && context.hideout && context.hideout.strings) || {};
      m.bindTooltip('<b>' + esc(p.name || p.id) + '</b> · ' + esc(strings["officer_" + p.status] || p.status) +
                    (p.load != null ? ' · ' + p.load : ""), {direction: "top", offset: [0, -10], className: "gc-tooltip"});
      return m;
    },
  };

  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  /** The header clock, in Shanghai time regardless of the viewer's zone: ticked here, not through Dash (a Dash
      update every second kept the browser busy on a large page). */
  function clockText() {
    const d = new Date();
    const sh = new Date(d.getTime() + (d.getTimezoneOffset() + 480) * 60000);
    return sh.getFullYear() + "-" + pad(sh.getMonth() + 1) + "-" + pad(sh.getDate()) + " " +
           pad(sh.getHours()) + ":" + pad(sh.getMinutes()) + ":" + pad(sh.getSeconds());
  }
  setInterval(() => {
    const text = clockText();
    document.querySelectorAll(".gc-clock").forEach(el => { if (el.textContent !== text) el.textContent = text; });
  }, 1000);

  // ---- clientside callbacks ----
  const cc = {
    connection: function (connected, strings) {
      const s = strings || {};
      return [connected ? (s.connected || "Live") : (s.disconnected || "Offline"),
              "gc-conn " + (connected ? "gc-conn-on" : "gc-conn-off")];
    },
    markDirty: function (msg, connected) {
      return Date.now();
    },
    throttle: function (n, dirty, last) {
      // at most one server refresh per second, and only when something happened since the last one
      if (!dirty || (last && dirty <= last)) return window.dash_clientside.no_update;
      return Date.now();
    },
  };

  window.gc = Object.assign(window.gc || {}, {map: map, crs: {toDisplay: toDisplay, wgsToGcj: wgsToGcj}});
  window.dash_clientside = Object.assign({}, window.dash_clientside, {gc_cc: cc});
})();
