/*
 * Draws each covenant's charts on the agreement page: value against threshold, and headroom,
 * by test date. The figures come from the page's JSON script element (no inline script), as
 * text; they are turned into numbers here for plotting only. The tables on the page carry
 * the same figures for readers who cannot see the charts.
 */
(function () {
  "use strict";

  var STATUS_COLOURS = {
    breach: "#b42318",
    near_breach: "#9a6700",
    compliant: "#1d7a3e",
    waived: "#7a5af8",
    incomplete: "#5b6475",
    not_tested: "#98a2b3"
  };
  var SERIES_COLOURS = ["#1f4e8c", "#0e7c86", "#7a3e9d", "#b54708", "#3b7d23", "#5b6475"];

  function toNumber(text) {
    return text === null || text === undefined ? null : Number(text);
  }

  function formatter(ratio) {
    if (ratio) {
      return function (value) { return value === null ? "" : value.toFixed(2) + "x"; };
    }
    var money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });
    return function (value) {
      if (value === null) { return ""; }
      return value < 0 ? "(" + money.format(-value) + ")" : money.format(value);
    };
  }

  function axisFormatter(ratio) {
    if (ratio) { return function (value) { return value + "x"; }; }
    var compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
    return function (value) { return (value < 0 ? "-$" : "$") + compact.format(Math.abs(value)); };
  }

  function labelsOf(covenant) {
    var seen = {};
    covenant.series.forEach(function (series) {
      series.points.forEach(function (point) { seen[point.date] = true; });
    });
    return Object.keys(seen).sort();
  }

  function pointsByDate(series) {
    var byDate = {};
    series.points.forEach(function (point) { byDate[point.date] = point; });
    return byDate;
  }

  function commonOptions(covenant, format) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          callbacks: {
            label: function (context) {
              var value = context.parsed.y;
              var text = context.dataset.label + ": " + format(value);
              var status = context.dataset.statusLabels && context.dataset.statusLabels[context.dataIndex];
              return status ? text + " (" + status + ")" : text;
            }
          }
        }
      },
      scales: {
        y: { ticks: { callback: axisFormatter(covenant.ratio) } }
      }
    };
  }

  function valueChart(canvas, covenant) {
    var labels = labelsOf(covenant);
    var format = formatter(covenant.ratio);
    var datasets = [];
    covenant.series.forEach(function (series, index) {
      var byDate = pointsByDate(series);
      var points = labels.map(function (date) { return byDate[date] || null; });
      var colour = SERIES_COLOURS[index % SERIES_COLOURS.length];
      var name = covenant.series.length > 1 ? series.name + " " : "";
      datasets.push({
        label: name + (covenant.ratio ? "Ratio" : "Value"),
        data: points.map(function (p) { return p ? toNumber(p.value) : null; }),
        statusLabels: points.map(function (p) { return p ? p.status_label : ""; }),
        borderColor: colour,
        backgroundColor: colour,
        pointBackgroundColor: points.map(function (p) { return p ? STATUS_COLOURS[p.status] || colour : colour; }),
        pointBorderColor: points.map(function (p) { return p ? STATUS_COLOURS[p.status] || colour : colour; }),
        pointRadius: 5,
        pointStyle: points.map(function (p) { return p && p.status === "breach" ? "crossRot" : "circle"; }),
        borderWidth: 2,
        spanGaps: false
      });
      if (index === 0) {
        datasets.push({
          label: "Threshold",
          data: points.map(function (p) { return p ? toNumber(p.threshold) : null; }),
          borderColor: "#5b6475",
          backgroundColor: "#5b6475",
          borderDash: [6, 4],
          pointRadius: 3,
          pointStyle: "rectRot",
          borderWidth: 2,
          spanGaps: false
        });
      }
    });
    return new Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: datasets },
      options: commonOptions(covenant, format)
    });
  }

  function headroomChart(canvas, covenant) {
    var labels = labelsOf(covenant);
    var format = formatter(covenant.ratio);
    var datasets = covenant.series.map(function (series) {
      var byDate = pointsByDate(series);
      var points = labels.map(function (date) { return byDate[date] || null; });
      var colours = points.map(function (p) {
        if (!p || p.headroom === null) { return STATUS_COLOURS.not_tested; }
        return STATUS_COLOURS[p.status] || (toNumber(p.headroom) < 0 ? STATUS_COLOURS.breach : STATUS_COLOURS.compliant);
      });
      return {
        label: (covenant.series.length > 1 ? series.name + " " : "") + "Headroom",
        data: points.map(function (p) { return p ? toNumber(p.headroom) : null; }),
        statusLabels: points.map(function (p) { return p ? p.status_label : ""; }),
        backgroundColor: colours,
        borderColor: colours,
        borderWidth: 1
      };
    });
    var options = commonOptions(covenant, format);
    options.plugins.legend.display = covenant.series.length > 1;
    return new Chart(canvas, { type: "bar", data: { labels: labels, datasets: datasets }, options: options });
  }

  function draw() {
    var source = document.getElementById("covenant-charts");
    if (!source || typeof Chart === "undefined") { return; }
    var byId = {};
    JSON.parse(source.textContent).forEach(function (covenant) { byId[String(covenant.id)] = covenant; });
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var covenant = byId[canvas.getAttribute("data-covenant")];
      if (!covenant || !covenant.series.length) { return; }
      if (canvas.getAttribute("data-chart") === "headroom") {
        headroomChart(canvas, covenant);
      } else {
        valueChart(canvas, covenant);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
