// Small maps inside the app (a task's place; correcting a report's position by dragging the pin), drawn with
// Leaflet over the city's offline base layer (/map/base.geojson: roads, water; no tile server, no internet) and
// the community outlines (/map/grids/community.geojson, 15 KB compressed: the unit grids' 170 KB are too much
// for a phone). Leaflet (vendor/leaflet/, 160 KB) is loaded on the first map, not with the page.
const LEAFLET = "/m/static/vendor/leaflet/";
const ZOOM = 16;
const STYLE = {
  water: {color: "#4a90c2", weight: 1, fillColor: "#a9d3f0", fillOpacity: 0.8},
  road: {color: "#8a96a3", weight: 2, opacity: 0.9},
  grid: {color: "#0b5cab", weight: 1.5, opacity: 0.8, dashArray: "4 4", fill: false},
};
let leaflet = null;
let layers = null;

function load(tag, attrs) {
  return new Promise((resolve, reject) => {
    const node = Object.assign(document.createElement(tag), attrs, {onload: resolve, onerror: reject});
    document.head.append(node);
  });
}

function loadLeaflet() {
  leaflet ||= Promise.all([load("link", {rel: "stylesheet", href: LEAFLET + "leaflet.css"}),
                           load("script", {src: LEAFLET + "leaflet.js"})]).then(() => window.L);
  return leaflet;
}

const fetchJson = url => fetch(url, {credentials: "same-origin"}).then(r => (r.ok ? r.json() : null)).catch(() => null);

// The shapes drawn under the pin: the base layer's roads and water (its points are labels), community outlines.
function shapes() {
  layers ||= Promise.all([fetchJson("/map/base.geojson"), fetchJson("/map/grids/community.geojson")])
    .then(([base, grids]) => [
      ...(base ? base.features.filter(f => f.geometry.type !== "Point") : []),
      ...(grids ? grids.features.map(f => ({...f, properties: {...f.properties, layer: "grid"}})) : []),
    ]);
  return layers;
}

const styleOf = feature => STYLE[feature.properties.layer] || STYLE.road;

const maps = new WeakMap();  // container → its map (a container shown again gets a new one)

// A map in `container` centred on (lon, lat) with a pin (none yet and the whole city shown when lon is null);
// `onMove(lon, lat)` makes the pin draggable, and a tap on the map moves it there.
export async function showMap(container, lon, lat, onMove = null) {
  const L = await loadLeaflet();
  if (maps.has(container)) maps.get(container).remove();
  const map = L.map(container, {zoomControl: true, attributionControl: false});
  maps.set(container, map);
  const features = await shapes();
  const layer = L.geoJSON({type: "FeatureCollection", features}, {style: styleOf, interactive: false});
  layer.addTo(map);
  if (lon !== null && lon !== undefined) map.setView([lat, lon], ZOOM);
  else if (features.length) map.fitBounds(layer.getBounds());
  const icon = L.divIcon({className: "m-pin", iconSize: [22, 22], iconAnchor: [11, 22]});
  const pin = L.marker(lon === null || lon === undefined ? map.getCenter() : [lat, lon],
                       {draggable: Boolean(onMove), autoPan: true, icon});
  if (lon !== null && lon !== undefined) pin.addTo(map);
  if (onMove) {
    pin.on("dragend", () => { const p = pin.getLatLng(); onMove(p.lng, p.lat); });
    map.on("click", e => { pin.setLatLng(e.latlng).addTo(map); onMove(e.latlng.lng, e.latlng.lat); });
  }
  return map;
}
