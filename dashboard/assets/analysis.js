/* The analysis page (/analysis): the choropleth's colours and tooltips. The server puts each grid's value of the
   chosen indicator in the layer's hideout {values, min, max, dir}; better values are green, worse red, no data grey. */
(function () {
  "use strict";
  const state = {hideout: {}};

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }

  /** Worse (0) red -> amber -> green (1) better. */
  function shade(goodness) {
    const stops = [[220, 38, 38], [245, 158, 11], [22, 163, 74]];
    const x = Math.max(0, Math.min(1, goodness)) * 2, i = Math.min(1, Math.floor(x)), f = x - i;
    return "rgb(" + stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f)).join(",") + ")";
  }

  function value(code) {
    const v = (state.hideout.values || {})[code];
    return v == null ? null : v;
  }

  window.gc_analysis = {
    choroplethStyle: function (feature, context) {
      const h = (context && context.hideout) || {};
      state.hideout = h;
      const v = value(feature.properties.code);
      const base = {color: "#334155", weight: 0.8, opacity: 0.8, fill: true};
      if (v == null) return Object.assign(base, {fillColor: "#94a3b8", fillOpacity: 0.15});
      const span = h.max - h.min;
      const ratio = span > 0 ? (v - h.min) / span : 0.5;  // one value only: neither better nor worse
      return Object.assign(base, {fillColor: shade(h.dir === "lower" ? 1 - ratio : ratio), fillOpacity: 0.6});
    },
    choroplethTip: function (feature, layer) {
      const p = feature.properties || {};
      layer.bindTooltip(function () {
        const v = value(p.code);
        return "<b>" + esc(p.name || p.code) + "</b> · " + esc(state.hideout.label || "") + " " +
               (v == null ? "—" : (v * 100).toFixed(1) + "%");
      }, {sticky: true, className: "gc-tooltip"});
    },
  };
})();
