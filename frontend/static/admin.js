// Console charts: drawn with the vendored Apache ECharts from the numbers the page already
// shows as a table (the table is the accessible alternative, and what shows without JS).
(function () {
  "use strict";
  const theme = { text: "#8a8a8a", line: "#3a3a3a", fg: "#ffffff" };
  const axis = {
    axisLine: { lineStyle: { color: theme.line } },
    axisLabel: { color: theme.text },
    splitLine: { lineStyle: { color: theme.line } },
  };

  function stacked(values) {
    const colours = { Done: "#ffffff", Snoozed: "#9a9a9a", Dismissed: "#4a4a4a" };
    return {
      grid: { left: 40, right: 16, top: 30, bottom: 30 },
      legend: { textStyle: { color: theme.text }, top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: values.days, ...axis },
      yAxis: { type: "value", ...axis },
      series: [
        ...Object.entries(values.series).map(([name, data]) => ({
          name, type: "bar", stack: "reactions", data, itemStyle: { color: colours[name] },
        })),
        { name: "Served", type: "line", data: values.served, symbol: "none",
          lineStyle: { color: theme.text, type: "dashed" }, itemStyle: { color: theme.text } },
      ],
    };
  }

  function reward(values) {
    return {
      grid: { left: 40, right: 16, top: 20, bottom: 30 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: values.days, ...axis },
      yAxis: { type: "value", min: -1, max: 1, ...axis },
      series: [{ name: "Mean reward", type: "line", data: values.reward, connectNulls: true,
                 lineStyle: { color: theme.fg }, itemStyle: { color: theme.fg } }],
    };
  }

  function draw() {
    if (!window.echarts) return; // no vendored chart library: the tables stand alone
    document.querySelectorAll("[data-chart]").forEach((el) => {
      if (el.dataset.drawn) return;
      const values = JSON.parse(el.dataset.values);
      const option = el.dataset.chart === "reward" ? reward(values) : stacked(values);
      const chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption({ backgroundColor: "transparent", animation: false, ...option });
      el.dataset.drawn = "1";
      new ResizeObserver(() => chart.resize()).observe(el);
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
