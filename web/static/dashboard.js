// The dashboard's two charts (chart.js from web/static/vendor).
(function () {
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  function bars(id, series, colour) {
    new Chart(document.getElementById(id), {
      type: "bar",
      data: { labels: series.labels, datasets: [{ data: series.values, backgroundColor: colour }] },
      options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  bars("by-status", data.status, "#2f6f4f");
  bars("by-role", data.roles, "#b5651d");
})();
