// Resizes Cliniko's booking iframe as its content changes and scrolls it into view when the
// booking step changes. It replaces the inline script in Cliniko's embed code, so public pages
// need no 'unsafe-inline'; unlike that script it only listens to the iframe's own Cliniko origin.
(function () {
  "use strict";

  var MIN_HEIGHT = 200;
  var MAX_HEIGHT = 20000;

  function originOf(frame) {
    try { return new URL(frame.src).origin; } catch (e) { return null; }
  }

  function frameFor(event) {
    var frames = document.querySelectorAll("iframe.cliniko-bookings");
    for (var i = 0; i < frames.length; i += 1) {
      if (frames[i].contentWindow === event.source && originOf(frames[i]) === event.origin) {
        return frames[i];
      }
    }
    return null;
  }

  window.addEventListener("message", function (event) {
    if (typeof event.data !== "string") { return; }
    var frame = frameFor(event);
    if (!frame) { return; }
    if (event.data.indexOf("cliniko-bookings-resize") > -1) {
      var height = Number(event.data.split(":")[1]);
      if (height >= MIN_HEIGHT && height <= MAX_HEIGHT) { frame.style.height = height + "px"; }
    }
    if (event.data.indexOf("cliniko-bookings-page") > -1) { frame.scrollIntoView(); }
  });
})();
