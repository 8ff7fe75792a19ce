// Chart kinds of the data quality and LLM pages, drawn by admin.js's draw() from each chart's
// data-values (the page's tables hold the same numbers, and show without JS).
(function () {
  "use strict";
  const shades = ["#ffffff", "#c8c8c8", "#9a9a9a", "#f0c890", "#f0a0a0", "#9be29b"];
  const charts = window.ooAdminCharts = window.ooAdminCharts || {};

  // values: { days: [...], series: { name: [rate|null per day] } } — rates 0..1.
  charts.lines = {
    option(values, theme, axis) {
      return {
        grid: { left: 44, right: 16, top: 40, bottom: 30 },
        legend: { textStyle: { color: theme.text }, top: 0, type: "scroll" },
        tooltip: { trigger: "axis", valueFormatter: (v) => (v == null ? "–" : (v * 100).toFixed(1) + " %") },
        xAxis: { type: "category", data: values.days, ...axis },
        yAxis: { type: "value", min: 0, axisLabel: { color: theme.text, formatter: (v) => Math.round(v * 100) + " %" },
                 axisLine: axis.axisLine, splitLine: axis.splitLine },
        series: Object.entries(values.series).map(([name, data], i) => ({
          name, type: "line", data, connectNulls: false, symbol: "circle", symbolSize: 5,
          lineStyle: { color: shades[i % shades.length] }, itemStyle: { color: shades[i % shades.length] },
        })),
      };
    },
  };

  // values: { categories: [...], series: { name: [number per category] } } — horizontal bars.
  charts.bars = {
    option(values, theme, axis) {
      return {
        grid: { left: 8, right: 24, top: 30, bottom: 20, containLabel: true },
        legend: { textStyle: { color: theme.text }, top: 0 },
        tooltip: { trigger: "axis" },
        yAxis: { type: "category", data: values.categories, inverse: true, ...axis },
        xAxis: { type: "value", ...axis },
        series: Object.entries(values.series).map(([name, data], i) => ({
          name, type: "bar", data, barMaxWidth: 22, itemStyle: { color: shades[i % shades.length] },
        })),
      };
    },
  };

  // values: { days: [...], people: [label], ids: [user id], cells: [[day i, person i, 0..1]] }.
  // A red (thin) cell opens the person.
  charts.heatmap = {
    option(values, theme, axis) {
      return {
        grid: { left: 8, right: 16, top: 10, bottom: 60, containLabel: true },
        tooltip: { formatter: (p) => values.people[p.value[1]] + " · " + values.days[p.value[0]] +
          ": " + Math.round(p.value[2] * 100) + " % of signals" },
        xAxis: { type: "category", data: values.days, ...axis, splitArea: { show: false } },
        yAxis: { type: "category", data: values.people, inverse: true, ...axis,
                 axisLabel: { color: theme.text, width: 140, overflow: "truncate" } },
        visualMap: { min: 0, max: 1, calculable: false, orient: "horizontal", left: "center", bottom: 0,
                     textStyle: { color: theme.text }, inRange: { color: ["#f0a0a0", "#6a5a3a", "#ffffff"] } },
        series: [{ type: "heatmap", data: values.cells, itemStyle: { borderColor: "#000", borderWidth: 1 } }],
      };
    },
    bind(chart, values) {
      chart.on("click", (p) => {
        if (p.value && p.value[2] < values.low) window.location.href = "/admin/users/" + values.ids[p.value[1]];
      });
    },
  };
})();
