// AuraStream status page: fetches status.json (relative to the page, so it also works under a
// stage prefix) every few seconds, fills in the health of each component and draws each metric
// series of the last hour as an inline SVG sparkline. Everything it loads or calls is on the
// page's own origin; text from the server is only ever set as textContent.
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var WIDTH = 300;
  var HEIGHT = 64;
  var TOP = 14; // room for the scale label above the highest point
  var PAD = 4;
  var STATUSES = ["healthy", "degraded", "unhealthy"];

  var refreshSeconds = Number(document.body.getAttribute("data-refresh-seconds")) || 5;
  var refreshMs = Math.max(1, refreshSeconds) * 1000;

  function byId(id) {
    return document.getElementById(id);
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function svgElement(tag, attributes) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, String(attributes[name]));
    });
    return node;
  }

  function pad2(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function clockTime(date, withSeconds) {
    var text = pad2(date.getHours()) + ":" + pad2(date.getMinutes());
    return withSeconds ? text + ":" + pad2(date.getSeconds()) : text;
  }

  function isNumber(value) {
    return typeof value === "number" && isFinite(value);
  }

  function format(value, unit) {
    if (!isNumber(value)) {
      return "none";
    }
    if (unit === "percent") {
      return (value * 100).toFixed(1) + " %";
    }
    if (unit === "ms") {
      return (value >= 100 ? value.toFixed(0) : value.toFixed(1)) + " ms";
    }
    return String(Math.round(value * 100) / 100);
  }

  function statusClass(status) {
    return "status status-" + (STATUSES.indexOf(status) >= 0 ? status : "unknown");
  }

  // --- Health -------------------------------------------------------------------------------

  function renderHealth(health) {
    var overall = byId("overall-status");
    overall.textContent = health.status || "unknown";
    overall.className = statusClass(health.status);
    byId("version").textContent = health.version || "unknown";

    var rows = byId("component-rows");
    rows.textContent = "";
    // `components` maps each name to its status (the runbook's shape); latency and detail
    // sit beside it under `details`.
    var statuses = health.components || {};
    var details = health.details || {};
    var names = Object.keys(statuses);
    if (names.length === 0) {
      var empty = element("tr");
      var cell = element("td", "", "no components reported");
      cell.colSpan = 4;
      empty.appendChild(cell);
      rows.appendChild(empty);
    }
    names.forEach(function (componentName) {
      var info = details[componentName] || {};
      var row = element("tr");
      row.setAttribute("data-component", componentName);
      var name = element("th", "", componentName);
      name.scope = "row";
      row.appendChild(name);
      var status = element("td");
      var value = statuses[componentName];
      status.appendChild(element("span", statusClass(value), value));
      row.appendChild(status);
      row.appendChild(element("td", "number", format(info.latencyMs, "ms")));
      row.appendChild(element("td", "detail", info.detail || ""));
      rows.appendChild(row);
    });
  }

  // --- Metrics ------------------------------------------------------------------------------

  function hasData(values, unit) {
    // A count of zero means nothing happened; a hit rate of zero is a measurement.
    return (values || []).some(function (value) {
      return isNumber(value) && (unit !== "count" || value !== 0);
    });
  }

  function latest(values, unit) {
    // Counts: the current minute. Latency and hit rate: the last minute that had any.
    if (unit === "count") {
      return values.length ? values[values.length - 1] : null;
    }
    for (var index = values.length - 1; index >= 0; index -= 1) {
      if (isNumber(values[index])) {
        return values[index];
      }
    }
    return null;
  }

  function scaleMax(seriesList, unit) {
    if (unit === "percent") {
      return 1;
    }
    var max = 0;
    seriesList.forEach(function (values) {
      values.forEach(function (value) {
        if (isNumber(value) && value > max) {
          max = value;
        }
      });
    });
    return max > 0 ? max : 1;
  }

  function point(index, count, value, max) {
    var x = count > 1 ? (index / (count - 1)) * WIDTH : WIDTH / 2;
    var y = HEIGHT - PAD - (Math.min(value, max) / max) * (HEIGHT - TOP - PAD);
    return { x: x, y: y };
  }

  // Missing minutes (null) break the line; a minute alone between gaps is drawn as a dot.
  function pathData(values, max) {
    var parts = [];
    var drawing = false;
    values.forEach(function (value, index) {
      if (!isNumber(value)) {
        drawing = false;
        return;
      }
      var p = point(index, values.length, value, max);
      var coordinates = p.x.toFixed(1) + " " + p.y.toFixed(1);
      if (drawing) {
        parts.push("L" + coordinates);
      } else {
        parts.push("M" + coordinates + " h0.01");
        drawing = true;
      }
    });
    return parts.join(" ");
  }

  function drawChart(figure, metrics) {
    var names = figure.getAttribute("data-series").split(" ");
    var labels = figure.getAttribute("data-labels").split("|");
    var unit = figure.getAttribute("data-unit");
    var title = figure.querySelector("h3").textContent;
    var seriesList = names.map(function (name) {
      return metrics[name] || [];
    });
    var latestText = figure.querySelector(".latest");
    var plot = figure.querySelector(".plot");
    plot.textContent = "";

    if (!seriesList.some(function (values) { return hasData(values, unit); })) {
      latestText.textContent = "no data yet";
      figure.classList.add("empty");
      return;
    }
    figure.classList.remove("empty");

    var summary = names.map(function (name, index) {
      return labels[index] + " " + format(latest(seriesList[index], unit), unit);
    });
    var scope = unit === "count" ? "this minute" : "latest";
    latestText.textContent = scope + ": " + summary.join(" · ");

    var max = scaleMax(seriesList, unit);
    var svg = svgElement("svg", {
      viewBox: "0 0 " + WIDTH + " " + HEIGHT,
      role: "img",
      "aria-label": title + " over the last hour, " + scope + ": " + summary.join(", ") +
        "; scale up to " + format(max, unit),
    });
    var heading = svgElement("title");
    heading.textContent = title + " over the last hour";
    svg.appendChild(heading);
    svg.appendChild(svgElement("line", {
      class: "baseline", x1: 0, x2: WIDTH, y1: HEIGHT - PAD, y2: HEIGHT - PAD,
    }));
    var scale = svgElement("text", { class: "scale", x: 2, y: 9 });
    scale.textContent = format(max, unit);
    svg.appendChild(scale);
    seriesList.forEach(function (values, index) {
      if (!hasData(values, unit) && unit === "count") {
        return; // a flat zero line would hide under the baseline anyway
      }
      svg.appendChild(svgElement("path", {
        class: "line series-" + index,
        d: pathData(values, max),
        "data-series": names[index],
      }));
      // A dot on the latest point, so a lone minute between gaps still shows.
      for (var last = values.length - 1; last >= 0; last -= 1) {
        if (isNumber(values[last])) {
          var p = point(last, values.length, values[last], max);
          svg.appendChild(svgElement("circle", {
            class: "dot series-" + index, cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: 2.5,
          }));
          break;
        }
      }
    });
    plot.appendChild(svg);

    var epochs = metrics.minute_epochs || [];
    if (epochs.length) {
      var axis = element("p", "axis");
      axis.setAttribute("aria-hidden", "true");
      axis.appendChild(element("span", "", clockTime(new Date(epochs[0] * 1000))));
      axis.appendChild(element("span", "", clockTime(new Date(epochs[epochs.length - 1] * 1000))));
      plot.appendChild(axis);
    }
    if (names.length > 1) {
      var legend = element("ul", "legend");
      labels.forEach(function (label, index) {
        var item = element("li");
        item.appendChild(element("span", "swatch series-" + index));
        item.appendChild(document.createTextNode(label));
        legend.appendChild(item);
      });
      plot.appendChild(legend);
    }
  }

  function renderTotals(totals) {
    var entries = [
      ["Requests", format(totals.requests, "count")],
      ["Latency p50", format(totals.latency_p50_ms, "ms")],
      ["Latency p99", format(totals.latency_p99_ms, "ms")],
      ["Cache hit rate", format(totals.cache_hit_rate, "percent")],
      ["Engine fallbacks", format(totals.engine_fallbacks, "count")],
      ["Engine errors", format(totals.engine_errors, "count")],
      ["Jobs submitted", format(totals.jobs_submitted, "count")],
      ["Jobs succeeded", format(totals.jobs_succeeded, "count")],
      ["Jobs failed", format(totals.jobs_failed, "count")],
    ];
    var list = byId("totals");
    list.textContent = "";
    entries.forEach(function (entry) {
      var group = element("div");
      group.appendChild(element("dt", "", entry[0]));
      group.appendChild(element("dd", "", entry[1]));
      list.appendChild(group);
    });
  }

  function renderMetrics(metrics) {
    renderTotals(metrics.totals || {});
    Array.prototype.forEach.call(document.querySelectorAll("figure.chart"), function (figure) {
      drawChart(figure, metrics);
    });
  }

  // --- Refresh ------------------------------------------------------------------------------

  function render(document_) {
    renderHealth(document_.health || {});
    renderMetrics(document_.metrics || {});
    var stamp = document_.health && document_.health.timestamp;
    var when = stamp ? new Date(stamp) : new Date();
    if (isNaN(when.getTime())) {
      when = new Date();
    }
    var updated = byId("updated-at");
    updated.setAttribute("datetime", when.toISOString());
    updated.textContent = clockTime(when, true);
    var problem = byId("refresh-error");
    problem.hidden = true;
    problem.textContent = "";
  }

  function showError(error) {
    var problem = byId("refresh-error");
    problem.textContent = "Could not refresh (" + (error && error.message ? error.message : error) +
      "); showing the last data received, trying again in " + refreshSeconds + " s.";
    problem.hidden = false;
  }

  function refresh() {
    fetch("status.json", { cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(render)
      .catch(showError)
      .then(function () {
        window.setTimeout(refresh, refreshMs);
      });
  }

  refresh();
})();
