/* The wall display (/wall): the server builds its plotly figures for a 1920 px wide screen; this scales every font,
   margin and line in them to the real viewport, so a 3840×2160 wall reads like a 1920×1080 one from 5 m. */
(function () {
  "use strict";
  const BASE_WIDTH = 1920;

  function factor() {
    const w = window.innerWidth || BASE_WIDTH;
    return Math.min(3, Math.max(0.6, w / BASE_WIDTH));
  }

  // sizes to scale: any `size` under a *font key, margins, marker sizes and line widths
  function scale(node, k, parentKey) {
    if (Array.isArray(node)) return node.map(function (v) { return scale(v, k, parentKey); });
    if (node === null || typeof node !== "object") return node;
    const out = {};
    Object.keys(node).forEach(function (key) {
      const v = node[key];
      const fontish = /font$/i.test(parentKey || "");
      if (typeof v === "number" && key === "size" && (fontish || parentKey === "marker")) {
        out[key] = Math.round(v * k * 10) / 10;
      } else if (typeof v === "number" && parentKey === "margin") {
        out[key] = Math.round(v * k);
      } else if (typeof v === "number" && key === "width" && parentKey === "line") {
        out[key] = Math.round(v * k * 10) / 10;
      } else if (key === "x" || key === "y" || key === "values" || key === "labels" || key === "text") {
        out[key] = v;  // data, never scaled
      } else {
        out[key] = scale(v, k, key);
      }
    });
    return out;
  }

  const wall = {
    viewport: function (view) {
      // the same district on every screen: one zoom level more for each doubling of the width
      if (!view) return window.dash_clientside.no_update;
      const zoom = Math.round((view.zoom + Math.log2(factor())) * 4) / 4;
      return {center: [view.center.lat, view.center.lng], zoom: zoom, transition: "setView"};
    },
    scaleFigures: function (figs) {
      if (!figs) return [window.dash_clientside.no_update, window.dash_clientside.no_update,
                         window.dash_clientside.no_update];
      const k = factor();
      return ["hours", "days", "channels"].map(function (name) {
        const fig = figs[name] || {data: [], layout: {}};
        const scaled = scale(fig, k, null);
        scaled.layout = Object.assign({}, scaled.layout, {autosize: true, meta: {gcScale: k}});
        return scaled;
      });
    },
  };

  window.dash_clientside = Object.assign({}, window.dash_clientside, {gc_wall: wall});
})();
