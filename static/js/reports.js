// The reports' charts: each <canvas data-chart="ID"> draws the JSON of <script id="ID">
// (written by the server with json_script: the same figures as the table beside it).
(function () {
  "use strict";
  const colours = ["#0d6efd", "#198754", "#fd7e14", "#dc3545", "#6f42c1", "#20c997"];
  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map((set, i) => ({ ...set, backgroundColor: colours[i % colours.length] })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: document.documentElement.lang || undefined,
        scales: { x: { stacked: data.stacked }, y: { stacked: data.stacked, beginAtZero: true } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
