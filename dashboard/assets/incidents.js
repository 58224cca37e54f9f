/* The command center's incident markers: one Leaflet.markercluster layer (assets/vendor/) kept in step with the
   incident store marker by marker — added, restyled, removed — and never rebuilt, outside Dash's props (a large
   GeoJSON prop made the browser redraw every marker on every update). Markers look as gc.map.incidentPoint draws
   them; a click opens the case on the desk (assets/queue.js). Leaflet wants [lat, lon]; records carry (lon, lat). */
(function () {
  "use strict";

  const MAP_ID = "cc-map";
  const PANE = "gc-incidents";  // above the officers' pane: an officer never hides an incident
  const maps = {};
  const layer = {map: null, group: null, holder: null, markers: new Map(), drawn: new Map(), last: null, name: null};

  function hook() {
    if (!window.L || !window.L.Map) return false;
    window.L.Map.addInitHook(function () {
      const el = this.getContainer();
      const holder = el && (el.id ? el : el.closest("[id]"));
      if (holder) maps[holder.id] = this;
      this.whenReady(() => { if (layer.last) sync.apply(null, layer.last); });
    });
    return true;
  }
  if (!hook()) document.addEventListener("DOMContentLoaded", hook);

  function overdue(r, now) { return !!(r.dl && r.s !== "suspended" && Date.parse(r.dl) < now); }

  function clusterIcon(cluster) {
    const n = cluster.getChildCount();
    const late = cluster.getAllChildMarkers().some(m => m.gcLate);
    const size = n < 10 ? 30 : n < 100 ? 36 : 44;
    return L.divIcon({className: "gc-inc-wrap", iconSize: [size, size], iconAnchor: [size / 2, size / 2],
                      html: '<div class="gc-cluster' + (late ? " gc-cluster-late" : "") + '"><span>' + n + "</span></div>"});
  }

  /** The cluster group on the current map (a new map: start afresh), inside the empty layer group of the layer
      control's 案件 entry, so the control shows and hides it as any overlay (straight on the map until the control
      is drawn, then moved into it). */
  function group(strings) {
    const map = maps[MAP_ID];
    if (!map || !map.getContainer().isConnected || !L.MarkerClusterGroup) return null;
    if (layer.map !== map) {
      layer.map = map;
      layer.holder = null;
      layer.markers.clear();
      layer.drawn.clear();
      if (!map.getPane(PANE)) map.createPane(PANE).style.zIndex = 640;
      layer.group = L.markerClusterGroup({
        maxClusterRadius: 36, disableClusteringAtZoom: 16, showCoverageOnHover: false, chunkedLoading: true,
        iconCreateFunction: clusterIcon, clusterPane: PANE,
      });
      map.addLayer(layer.group);
    }
    layer.name = strings.layer_incidents || layer.name;
    const holder = !layer.holder && window.gc.live && window.gc.live.entry(map, layer.name);
    if (holder) {
      layer.holder = holder;
      map.removeLayer(layer.group);
      holder.addLayer(layer.group);  // shown when (and only when) the entry is checked
    }
    return layer.group;
  }

  function marker(r, late, strings) {
    const feature = {properties: {id: r.id, s: r.s, u: r.u, o: late, c: r.c, cn: r.cn, d: r.d}};
    const m = window.gc.map.incidentPoint(feature, L.latLng(r.lat, r.lon), {hideout: {strings: strings}});
    m.options.pane = PANE;
    m.gcLate = late;
    m.on("click", () => window.gc.desk.open(r.id));
    return m;
  }

  /** Bring the markers in line with `records` under the street/category filters. */
  function sync(records, street, category, strings) {
    layer.last = [records, street, category, strings];
    const g = group(strings || {});
    if (!g) return;
    const now = Date.now(), add = [], remove = [], keep = new Set();
    Object.keys(records || {}).forEach(id => {
      const r = records[id];
      if (r.lon == null || (street && r.st !== street) || (category && !(r.c || "").startsWith(category))) return;
      keep.add(id);
      const late = overdue(r, now);
      const sig = [r.s, r.u, late, r.lon, r.lat, r.d, r.cn].join("|");
      if (layer.drawn.get(id) === sig) return;
      const old = layer.markers.get(id);
      if (old) remove.push(old);
      const m = marker(r, late, strings || {});
      layer.markers.set(id, m);
      layer.drawn.set(id, sig);
      add.push(m);
    });
    layer.markers.forEach((m, id) => {
      if (!keep.has(id)) { remove.push(m); layer.markers.delete(id); layer.drawn.delete(id); }
    });
    if (remove.length) g.removeLayers(remove);
    if (add.length) g.addLayers(add);
  }

  window.gc = Object.assign(window.gc || {}, {incidents: {sync: sync, layer: layer, map: () => maps[MAP_ID]}});
})();
