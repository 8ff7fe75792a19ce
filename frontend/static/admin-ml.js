// The ML console's charts (policies, simulations), drawn by admin.js's loop: it looks chart
// kinds up in window.ooCharts. Each takes the numbers the page also shows as a table.
(function () {
  "use strict";
  const theme = { text: "#8a8a8a", line: "#3a3a3a", fg: "#ffffff" };
  const axis = {
    axisLine: { lineStyle: { color: theme.line } },
    axisLabel: { color: theme.text },
    splitLine: { lineStyle: { color: theme.line } },
  };
  const greys = ["#ffffff", "#c8c8c8", "#9a9a9a", "#7a7a7a", "#5a5a5a", "#e0c080", "#90b0e0"];

  // Simulation: each policy's mean reward over each tenth of the run; the oracle dashed.
  function curves(values) {
    const names = Object.keys(values.series);
    return {
      grid: { left: 44, right: 16, top: 34, bottom: 30 },
      legend: { textStyle: { color: theme.text }, top: 0, type: "scroll" },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: values.labels, ...axis },
      yAxis: { type: "value", scale: true, ...axis },
      series: names.map((name, i) => ({
        name, type: "line", data: values.series[name], connectNulls: true, symbol: "none",
        lineStyle: { color: greys[i % greys.length], type: name === "oracle" ? "dashed" : "solid" },
        itemStyle: { color: greys[i % greys.length] },
      })),
    };
  }

  // Policies: IPS / SNIPS / DR per policy as a point with its interval; the bar as a line.
  function intervals(values) {
    const kinds = ["IPS", "SNIPS", "DR"];
    const series = kinds.map((kind, k) => ({
      name: kind, type: "scatter", symbolSize: 8, itemStyle: { color: greys[k * 2] },
      data: values.estimates.map((list) => (list.find((e) => e.estimator === kind) || {}).value),
    }));
    const ranges = kinds.map((kind, k) => ({
      name: kind, type: "custom", itemStyle: { color: greys[k * 2] },
      renderItem: (params, api) => {
        const low = api.coord([api.value(0), api.value(1)]);
        const high = api.coord([api.value(0), api.value(2)]);
        const dx = (k - 1) * 10;
        return { type: "line", shape: { x1: low[0] + dx, y1: low[1], x2: high[0] + dx, y2: high[1] },
                 style: { stroke: greys[k * 2], lineWidth: 2 } };
      },
      data: values.estimates.map((list, i) => {
        const e = list.find((x) => x.estimator === kind) || {};
        return [i, e.low, e.high];
      }),
    }));
    series.forEach((s, k) => { s.symbolOffset = [(k - 1) * 10, 0]; });
    if (values.bar !== null && values.bar !== undefined) {
      series[0].markLine = { symbol: "none", label: { color: theme.text, formatter: "bar" },
        lineStyle: { color: theme.text, type: "dashed" }, data: [{ yAxis: values.bar }] };
    }
    return {
      grid: { left: 44, right: 16, top: 34, bottom: 30 },
      legend: { textStyle: { color: theme.text }, top: 0, data: kinds },
      tooltip: { trigger: "item" },
      xAxis: { type: "category", data: values.policies, ...axis },
      yAxis: { type: "value", scale: true, ...axis },
      series: [...series, ...ranges],
    };
  }

  window.ooCharts = Object.assign(window.ooCharts || {}, { curves, intervals });
})();

// A simulation's page: says "live" while its progress streams, and "ended" once it is done.
(function () {
  "use strict";
  function say(text) {
    const el = document.getElementById("sim-state");
    if (el) el.textContent = text;
  }
  document.addEventListener("htmx:sseOpen", () => say("live"));
  document.addEventListener("htmx:sseMessage", (e) => {
    if (e.target.id === "sim-results") say("ended");
    else if (e.target.id === "sim-progress") say("live");
  });
})();

// Console forms answer a refusal with the page and a 4xx status (400 bad input, 404 unknown,
// 409 refused, e.g. a promotion without the evidence): show that page rather than nothing.
document.addEventListener("htmx:beforeSwap", (e) => {
  const status = e.detail.xhr.status;
  if (!document.querySelector(".console") || ![400, 404, 409].includes(status)) return;
  e.detail.shouldSwap = true;
  e.detail.isError = false;
});
