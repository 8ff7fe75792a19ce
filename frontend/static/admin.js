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
      // Other console pages register their own chart kinds: window.ooCharts (admin-ml.js,
      // admin-ml-log.js) and window.ooAdminCharts (admin-charts.js).
      const extra = (window.ooCharts || {})[el.dataset.chart];
      const more = (window.ooAdminCharts || {})[el.dataset.chart];
      const option = extra ? extra(values, el, theme, axis)
        : more ? more.option(values, theme, axis)
        : el.dataset.chart === "reward" ? reward(values) : stacked(values);
      const chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption({ backgroundColor: "transparent", animation: false, ...option });
      if (more && more.bind) more.bind(chart, values);
      el.dataset.drawn = "1";
      new ResizeObserver(() => chart.resize()).observe(el);
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();

// The live tail: pause keeps events buffering (with an "N new" count) and resume shows them in
// order; the list keeps the newest MAX_ROWS. The connection state is said in words.
(function () {
  "use strict";
  const MAX_ROWS = 500;
  let paused = false;
  const buffered = [];

  function trim(list) {
    while (list.children.length > MAX_ROWS) list.lastElementChild.remove();
  }

  function say(id, text) {
    const el = document.getElementById(id);
    if (el) el.textContent = text;
  }

  document.addEventListener("htmx:sseBeforeMessage", (e) => {
    if (e.target.id !== "tail" || !paused) return;
    e.preventDefault();
    buffered.push(e.detail.data);
    say("tail-new", buffered.length + " new");
  });

  document.addEventListener("htmx:sseMessage", (e) => {
    if (e.target.id === "tail") trim(e.target);
    if (e.target.id === "health-panel") say("health-state", "live");
  });

  document.addEventListener("htmx:sseOpen", () => { say("tail-state", "live"); say("health-state", "live"); });
  document.addEventListener("htmx:sseError", () => {
    say("tail-state", "reconnecting…"); say("health-state", "reconnecting…");
  });

  document.addEventListener("click", (e) => {
    const button = e.target.closest("#tail-pause");
    if (!button) return;
    paused = !paused;
    button.textContent = paused ? "Resume" : "Pause";
    button.setAttribute("aria-pressed", String(paused));
    say("tail-state", paused ? "paused" : "live");
    if (paused) return;
    const list = document.getElementById("tail");
    while (buffered.length) list.insertAdjacentHTML("afterbegin", buffered.shift());
    if (window.htmx) window.htmx.process(list);
    trim(list);
    say("tail-new", "");
  });
})();
