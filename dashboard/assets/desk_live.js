/* The command center's live path, outside Dash: its own Socket.IO connection (assets/vendor/socket.io.min.js, the npm
   socket.io-client dist file), the incident feed and the officers on the map. On a page this large every Dash prop
   update costs the browser dearly, so nothing here goes through Dash props except what must:
   - a pushed `incident` is only a trigger: the changed cases are fetched from GET /api/v1/feed?after=<seq> (the
     caller's scope, applied on the server), at most one request in flight and one follow-up for whatever arrived
     meanwhile, and handed to the desk (assets/queue.js: gc.desk.apply, which patches the queue and the markers);
     the same catch-up runs on a slow tick, after reconnecting and after the drawer's own actions; cc-seq (the
     drawer's refresh) moves only when the open case is among the changed ones;
   - pushed `positions` move the officers' markers directly in Leaflet (in the officers' pane, inside the empty
     layer group of the layer control's officers entry, which shows and hides them), at most once every
     OFFICERS_MS, and an alarm raises the SOS banner;
   - the header's connection state (cc-conn) follows the socket.
   The socket connects as the DashSocketIO component did (same origin, /socket.io, the session cookie; the server
   puts it in the rooms of the user's scope: dashboard/realtime.py). It runs only while the command center is shown.
   Loading the command center (/), the open cases are asked for as soon as this script runs and the socket connects
   as soon as the document is parsed, both while Dash is still fetching and rendering the page (gc.live.initial hands
   the first answer to the desk, assets/queue.js). */
(function () {
  "use strict";

  const MAP_ID = "cc-map";
  const FEED_URL = "/api/v1/feed";
  const OFFICERS_URL = "/api/v1/officers";
  const TICK_MS = 20000;          // the catch-up's safety net under the pushes (pushes are at most once)
  const OFFICERS_MS = 2500;       // positions are applied at most this often
  const ROSTER_MS = 60000;        // names and statuses of every officer in scope, refreshed this often

  const live = {
    socket: null, seq: null, inflight: false, again: false, tick: null, roster: null, connected: null, early: null,
  };
  const officers = {};            // officer id -> latest record (REST list merged with pushed positions)
  const layer = {map: null, group: null, markers: new Map(), drawn: new Map(), dirty: new Set(), at: 0, timer: null};
  const maps = {};

  const controls = [];             // the layer controls (L.Control.Layers) made so far

  function hook() {
    if (!window.L || !window.L.Map) return false;
    if (window.L.Control && window.L.Control.Layers) window.L.Control.Layers.addInitHook(function () { controls.push(this); });
    window.L.Map.addInitHook(function () {
      const el = this.getContainer();
      const holder = el && (el.id ? el : el.closest("[id]"));
      if (holder) maps[holder.id] = this;
      if (holder && holder.id === MAP_ID) this.whenReady(() => { if (live.socket) drawOfficers(true); });
    });
    return true;
  }
  if (!hook()) document.addEventListener("DOMContentLoaded", hook);

  function onPage() { return !!document.getElementById("cc-queue"); }
  function started() { return live.seq !== null; }
  function names() { return (window.gc.desk && window.gc.desk.state.names) || {}; }
  function strings() { return names().strings || {}; }

  // ---- the connection ----
  function showConnection(connected) {
    if (live.connected === connected || !document.getElementById("cc-conn")) return;  // (drawn: start() shows it)
    live.connected = connected;
    const s = strings();
    window.dash_clientside.set_props("cc-conn", {
      children: connected ? (s.connected || "Live") : (s.disconnected || "Offline"),
      className: "gc-conn " + (connected ? "gc-conn-on" : "gc-conn-off"),
    });
  }

  function connect() {
    if (live.socket || typeof window.io !== "function") return;
    // WebSocket only, as every socket of the pages (dashboard/realtime.py): one connection to one process, no sticky
    // sessions needed behind several web processes
    const socket = window.io(window.location.origin, {path: "/socket.io", transports: ["websocket"]});
    live.socket = socket;
    socket.on("connect", () => { showConnection(true); catchUp(); });  // also after every reconnection
    socket.on("disconnect", () => showConnection(false));
    socket.on("connect_error", () => showConnection(false));
    // (before the page is drawn and started, pushes are ignored: its open cases are fetched after them)
    socket.on("incident", () => { if (onPage()) catchUp(); else if (started()) stop(); });
    socket.on("positions", positions => { if (onPage()) positionsPushed(positions); else if (started()) stop(); });
  }

  // ---- the first load: the open cases (and the socket) asked for before Dash has drawn the page ----
  function openCases(url) {
    return window.fetch(url, {credentials: "same-origin"}).then(r => {
      if (!r.ok) throw new Error("open cases: HTTP " + r.status);
      return r.json();
    });
  }

  /** The page's open cases ({all, seq}): the answer asked for early (once), else a fresh one. */
  function initial(url) {
    const early = live.early;
    live.early = null;
    return early && early.url === url ? early.answer.catch(() => openCases(url)) : openCases(url);
  }

  if (window.location.pathname === "/") {
    const url = "/api/v1/feed";
    live.early = {url: url, answer: openCases(url)};
    live.early.answer.catch(() => { /* asked again by initial() */ });
    document.addEventListener("DOMContentLoaded", () => { if (!live.socket) connect(); });
  }

  /** The command center (re)rendered with its records current up to `seq`: follow the feed from there. */
  function start(seq) {
    live.seq = Number.isInteger(seq) ? seq : 0;
    live.connected = null;
    connect();
    if (live.socket && live.socket.connected) { showConnection(true); catchUp(); }
    if (!live.tick) live.tick = setInterval(() => { if (onPage()) catchUp(); else stop(); }, TICK_MS);
    if (!live.roster) live.roster = setInterval(() => { if (onPage()) loadRoster(); }, ROSTER_MS);
    loadRoster();
  }

  /** Another page is shown: no socket, no timers (the next command center starts them again). */
  function stop() {
    if (live.socket) { live.socket.removeAllListeners(); live.socket.disconnect(); live.socket = null; }
    clearInterval(live.tick);
    clearInterval(live.roster);
    live.tick = live.roster = null;
    live.seq = null;
    live.connected = null;
  }

  // ---- the incident feed ----
  function catchUp() {
    if (live.seq === null) return;
    if (live.inflight) { live.again = true; return; }
    live.inflight = true;
    live.again = false;
    const asked = live.seq;
    window.fetch(FEED_URL + "?after=" + asked, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(r => r.ok ? r.json() : null)
      .then(body => { if (body && live.seq === asked) received(body); })
      .catch(() => { /* offline: the next push, tick or reconnection catches up */ })
      .then(() => {
        live.inflight = false;
        if (live.again && live.seq !== null) catchUp();
      });
  }

  function received(body) {
    if (typeof body.seq !== "number" || body.seq === live.seq) return;
    live.seq = body.seq;
    const up = body.up || {}, gone = body.gone || [];
    if (Object.keys(up).length || gone.length) {
      window.gc.desk.apply({up: up, gone: gone});
      const open = window.gc.desk.state.selected;
      if (open && (up[open] || gone.indexOf(open) >= 0)) {  // the drawer's case changed: it refreshes
        window.dash_clientside.set_props("cc-seq", {data: body.seq});
      }
    }
    if (body.more) live.again = true;
  }

  // ---- the officers ----
  function loadRoster() {
    window.fetch(OFFICERS_URL, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(r => r.ok ? r.json() : {items: []})
      .then(body => {
        (body.items || []).forEach(o => {
          const old = officers[o.id];
          if (old && old.position && o.position && old.position.at > o.position.at) o.position = old.position;
          officers[o.id] = o;
          layer.dirty.add(o.id);
        });
        drawOfficers(true);
      })
      .catch(() => { /* the next refresh */ });
  }

  function positionsPushed(positions) {
    if (!Array.isArray(positions)) return;
    positions.forEach(p => {
      if (!p || !p.officer_id) return;
      const id = p.officer_id;
      const o = officers[id] || (officers[id] = {id: id, name: id, status: p.status});
      o.status = p.status || o.status;
      o.position = {lon: p.lon, lat: p.lat, at: p.at, heading: p.heading, speed_mps: p.speed_mps, grid_unit: p.grid_unit};
      layer.dirty.add(id);
    });
    if (window.gc.desk) window.gc.desk.sos(positions);
    drawOfficers(false);
  }

  /** The (empty) layer group of the layer control's entry `name` on `map`, or null: markers drawn outside Dash go
      in it (the officers here, the incidents in assets/incidents.js), so the control shows and hides them. */
  function entry(map, name) {
    for (let i = controls.length - 1; i >= 0; i -= 1) {
      const c = controls[i];
      if (c._map !== map) continue;
      const found = (c._layers || []).find(l => l.overlay && l.name === name);
      if (found) return found.layer;
    }
    return null;
  }

  /** The officers' layer group (a new map: start afresh). */
  function group() {
    const map = maps[MAP_ID];
    if (!map || !map.getContainer().isConnected) return null;
    if (layer.map !== map || !layer.group) {
      const g = entry(map, strings().layer_officers);
      if (!g) return null;
      layer.map = map;
      layer.group = g;
      layer.markers.clear();
      layer.drawn.clear();
      Object.keys(officers).forEach(id => layer.dirty.add(id));
    }
    return layer.group;
  }

  /** Apply the changed officers: at once when the last redraw is old enough (or `now`), else in one trailing redraw. */
  function drawOfficers(now) {
    const wait = OFFICERS_MS - (Date.now() - layer.at);
    if (!now && wait > 0) {
      if (!layer.timer) layer.timer = setTimeout(() => { layer.timer = null; drawOfficers(true); }, wait);
      return;
    }
    const g = group();
    if (!g) {  // the map or its layer control is not drawn yet: try again shortly
      if (!layer.timer && onPage()) layer.timer = setTimeout(() => { layer.timer = null; drawOfficers(true); }, 1000);
      return;
    }
    layer.at = Date.now();
    const toDisplay = window.gc.crs.toDisplay, context = {hideout: {strings: strings()}};
    layer.dirty.forEach(id => {
      const o = officers[id], pos = o && o.position, old = layer.markers.get(id);
      if (!pos || pos.lon == null || pos.lat == null) {
        if (old) { g.removeLayer(old); layer.markers.delete(id); layer.drawn.delete(id); }
        return;
      }
      const p = toDisplay(pos.lon, pos.lat), at = L.latLng(p[1], p[0]);
      const look = [o.status, pos.heading, o.name, o.load].join("|");
      if (old && layer.drawn.get(id) === look) { old.setLatLng(at); return; }  // only moved
      if (old) g.removeLayer(old);
      const feature = {properties: {id: o.id, name: o.name, status: o.status, heading: pos.heading, load: o.load}};
      const m = window.gc.basemap.officerPoint(feature, at, context);
      layer.markers.set(id, m);
      layer.drawn.set(id, look);
      g.addLayer(m);
    });
    layer.dirty.clear();
  }

  // ---- the clientside callbacks (registered in dashboard/pages/command_callbacks.py) ----
  const callbacks = {
    /** The drawer acted (cc-act-result): catch up now (a no-op outside the command center). */
    acted: function () {
      if (live.seq !== null && onPage()) catchUp();
      return window.dash_clientside.no_update;
    },
  };

  window.gc = Object.assign(window.gc || {}, {
    live: {start: start, stop: stop, catchUp: catchUp, entry: entry, initial: initial, state: live, layer: layer},
    officers: officers,
  });
  window.dash_clientside = Object.assign({}, window.dash_clientside, {gc_live: callbacks});
})();
