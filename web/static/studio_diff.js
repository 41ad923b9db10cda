// The diagram as it would run, each changed element marked (added ones in green).
(function () {
  var data = JSON.parse(document.getElementById("diff-data").textContent);
  var container = document.getElementById("diff-diagram");
  var viewer = new BpmnJS({ container: container });
  viewer.importXML(data.xml).then(function () {
    var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
    data.marks.forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, data.added.indexOf(id) >= 0 ? "lf-added" : "lf-changed"); }
    });
    canvas.zoom("fit-viewport");
    container.setAttribute("data-rendered", "yes");
  }).catch(function () { container.setAttribute("data-rendered", "failed"); });
})();
