// The decision log's chart kinds (decisions, features, rewards), drawn by admin.js's loop from the
// numbers the page also shows as tables. Registered before admin.js runs (both are deferred).
(function () {
  "use strict";
  const greys = ["#ffffff", "#b0b0b0", "#7a7a7a", "#d8c9a8", "#9fb7c9", "#c9a0a0", "#a0c9a4",
                 "#5a5a5a", "#e6e6e6", "#8f8fb8", "#c9b26a", "#6aa5a5"];

  function lines(x, series, theme, axis, yName) {
    return {
      color: greys,
      grid: { left: 48, right: 16, top: 36, bottom: 30 },
      legend: { type: "scroll", textStyle: { color: theme.text }, top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: x, ...axis },
      yAxis: { type: "value", name: yName || "", ...axis },
      series: Object.entries(series).map(([name, data]) => ({
        name, type: "line", data, connectNulls: false, symbolSize: 4,
      })),
    };
  }

  window.ooCharts = Object.assign(window.ooCharts || {}, {
    // {x: [...], series: {name: [values]}}
    lines(values, el, theme, axis) {
      return lines(values.x, values.series, theme, axis);
    },
    // the rewards page: data-series picks "reward" or "reactions" from one payload
    series(values, el, theme, axis) {
      return lines(values.x, values[el.dataset.series], theme, axis);
    },
    // mean reward per group with its 95 % interval as an error bar (a custom series: a line
    // from the low to the high end over each bar)
    "ci-bars"(values, el, theme, axis) {
      const g = values.groups;
      const ends = [...g.low, ...g.high].filter((v) => v !== null);
      const ranges = g.x.map((_, i) => (g.low[i] === null ? null : [i, g.low[i], g.high[i]]))
        .filter((r) => r !== null);
      return {
        grid: { left: 48, right: 16, top: 20, bottom: 40 },
        tooltip: { trigger: "axis" },
        xAxis: { type: "category", data: g.x, ...axis },
        yAxis: { type: "value", ...axis, min: Math.floor(Math.min(-1, ...ends) * 2) / 2,
                 max: Math.ceil(Math.max(1, ...ends) * 2) / 2 },
        series: [
          { name: "Mean reward", type: "bar", data: g.mean, barMaxWidth: 48,
            itemStyle: { color: theme.fg } },
          { name: "95 % CI", type: "custom", data: ranges, z: 3,
            renderItem(params, api) {
              const low = api.coord([api.value(0), api.value(1)]);
              const high = api.coord([api.value(0), api.value(2)]);
              const style = { stroke: "#f0c890", lineWidth: 2 };
              return { type: "group", children: [
                { type: "line", shape: { x1: low[0], y1: low[1], x2: high[0], y2: high[1] }, style },
                { type: "line", shape: { x1: low[0] - 6, y1: low[1], x2: low[0] + 6, y2: low[1] }, style },
                { type: "line", shape: { x1: high[0] - 6, y1: high[1], x2: high[0] + 6, y2: high[1] }, style },
              ] };
            } },
        ],
      };
    },
  });
})();
