/* GridCommand base map: styles, landmark symbols and labels of the offline vector base layer, and the panes that keep
   the map readable (referenced by name from dash-leaflet props as window.gc.basemap.*; see dashboard/pages/basemap.py).
   Panes: roads and water under the grid outlines (overlayPane 400), labels and landmarks above them, officers just
   under the incident markers (markerPane 600) so an officer never hides an incident. Leaflet wants [lat, lon]. */
(function () {
  "use strict";

  const PANES = {"gc-bm": 250, "gc-bm-labels": 450, "gc-officers": 590};
  const ROAD = {
    arterial: {color: "#3a4d68", weight: 4, opacity: 0.95},
    secondary: {color: "#2f3f56", weight: 2.4, opacity: 0.9},
    lane: {color: "#283649", weight: 1.2, opacity: 0.85},
  };
  const GLYPH = {
    zh: {hospital: "医", school: "学", station: "站", government: "政", mall: "商", park: "园", market: "市"},
    en: {hospital: "H", school: "S", station: "T", government: "G", mall: "M", park: "P", market: "K"},
  };
  // the zoom from which a label shows (CSS hides it below: .gc-bmz-N on the map container)
  const LABEL_ZOOM = {river: 13, lake: 13, arterial: 13, secondary: 15, lane: 16, station: 14, hospital: 14,
                      government: 15, park: 15, mall: 15, school: 16, market: 16};
  const MAJOR_LANDMARKS = {station: 1, hospital: 1};

  let zoom = 13;  // the map's zoom as of the last zoomend (one base map per page)

  function roadWeight(cls) {
    return (ROAD[cls] || ROAD.lane).weight * (zoom <= 14 ? 1 : Math.min(3.2, Math.pow(1.5, zoom - 14)));
  }

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }

  /** The label language: the layer's hideout, else the page's ?lang=, else the stored choice (gc-lang), else zh. */
  function lang(context) {
    const h = (context && context.hideout) || {};
    if (h.lang) return h.lang;
    const q = new URLSearchParams(window.location.search).get("lang");
    if (q === "en" || q === "zh") return q;
    try { if (JSON.parse(window.localStorage.getItem("gc-lang")) === "en") return "en"; } catch (e) { /* none */ }
    return "zh";
  }

  function ensurePanes(map) {
    Object.keys(PANES).forEach(name => {
      if (map.getPane(name)) return;
      const pane = map.createPane(name);
      pane.style.zIndex = PANES[name];
      if (name === "gc-bm-labels") pane.style.pointerEvents = "none";
    });
    if (map._gcBasemapZoom) return;
    map._gcBasemapZoom = true;
    const mark = function () {
      const z = map.getZoom(), el = map.getContainer();
      for (let k = 11; k <= 18; k++) el.classList.toggle("gc-bmz-" + k, z >= k - 0.01);
      zoom = z;
      map.eachLayer(l => {  // roads widen as the map zooms in, like streets on paper
        const p = l.feature && l.feature.properties;
        if (p && p.layer === "road" && l.setStyle) l.setStyle({weight: roadWeight(p.class)});
      });
    };
    map.on("zoomend", mark);
    mark();
  }

  /** Make a layer create the panes (and the zoom classes) before Leaflet looks its pane up. */
  function inPane(layer, pane) {
    const before = layer.beforeAdd;
    layer.options.pane = pane;
    layer.beforeAdd = function (map) {
      ensurePanes(map);
      if (before) before.call(this, map);
    };
    return layer;
  }

  const basemap = {
    style: function (feature) {
      const p = feature.properties || {};
      if (p.layer === "water") {
        const line = feature.geometry && feature.geometry.type.indexOf("LineString") >= 0;
        return line ? {color: "#15506e", weight: 3, opacity: 0.9, fill: false}
                    : {color: "#15506e", weight: 1, opacity: 0.9, fillColor: "#0b2a40", fillOpacity: 0.95};
      }
      return Object.assign({fill: false, lineCap: "round", lineJoin: "round"}, ROAD[p.class] || ROAD.lane,
                           {weight: roadWeight(p.class)});
    },
    point: function (feature, latlng, context) {
      const p = feature.properties || {};
      const glyphs = GLYPH[lang(context)] || GLYPH.zh;
      const icon = L.divIcon({className: "gc-bm-lm-wrap", iconSize: [14, 14], iconAnchor: [7, 7],
                              html: '<i class="gc-bm-lm gc-bm-lm-' + esc(p.class) + '">' + esc(glyphs[p.class] || "•") + "</i>"});
      return inPane(L.marker(latlng, {icon: icon, interactive: false, keyboard: false}), "gc-bm-labels");
    },
    /** A feature's name, shown from its zoom (CSS): a label marker beside a landmark or on a road's or a water's
        course, made when the feature is drawn and removed with it. A plain marker whose text CSS centres (or puts
        to the right), not a permanent tooltip: a tooltip measures itself on every placement, and a hundred of them
        forced as many layouts of the whole page at load and on every zoom. */
    label: function (feature, layer, context) {
      const p = feature.properties || {};
      if (!(layer instanceof L.Marker)) inPane(layer, "gc-bm");
      const text = lang(context) === "en" ? (p.name_en || p.name) : p.name;
      if (!text) return;
      if (p.label && layer.getCenter) {  // a winding river: its label sits on its course
        const at = window.gc && window.gc.crs ? window.gc.crs.toDisplay(p.label[0], p.label[1]) : p.label;
        layer.getCenter = function () { return L.latLng(at[1], at[0]); };
      }
      const marker = layer instanceof L.Marker;
      const zoom = LABEL_ZOOM[p.class] || 16;
      const cls = "gc-bm-lbl gc-bm-lbl-" + p.layer + " gc-bm-lbl-" + p.class + " gc-bm-from-" + zoom +
                  (MAJOR_LANDMARKS[p.class] ? " gc-bm-lbl-major" : "") + (marker ? " gc-bm-lbl-right" : "");
      const icon = L.divIcon({className: cls, html: "<span>" + esc(text) + "</span>", iconSize: null});
      let tag = null;
      layer.on("add", function () {
        if (tag) tag.remove();
        const at = marker ? layer.getLatLng() : layer.getCenter();
        tag = L.marker(at, {icon: icon, interactive: false, keyboard: false, pane: "gc-bm-labels"}).addTo(layer._map);
      });
      layer.on("remove", function () { if (tag) { tag.remove(); tag = null; } });
    },
    /** The command center's officer marker (assets/gridcommand.js), moved into the pane under the incidents. */
    officerPoint: function (feature, latlng, context) {
      return inPane(window.gc.map.officerPoint(feature, latlng, context), "gc-officers");
    },
  };

  window.gc = window.gc || {};
  window.gc.basemap = basemap;
})();
