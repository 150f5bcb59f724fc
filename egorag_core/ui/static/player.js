// The video page: start at ?t= (also in the media URL's #t=), seek when a scene is clicked,
// say so when the browser cannot play the file.
(function () {
  var player = document.getElementById("player");
  if (!player) return;
  var start = parseFloat(player.dataset.start) || 0;
  player.addEventListener("loadedmetadata", function () {
    if (Math.abs(player.currentTime - start) > 0.1) player.currentTime = start;
  }, { once: true });
  player.addEventListener("error", function () {
    document.getElementById("player-problem").hidden = false;
  });
  document.querySelectorAll("[data-seek]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      player.currentTime = parseFloat(link.dataset.seek);
      document.querySelectorAll(".scene.current").forEach(function (s) { s.classList.remove("current"); });
      link.closest(".scene").classList.add("current");
    });
  });
})();
