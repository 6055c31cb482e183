// The phone page's service worker: shows the hall's push messages ("N people ahead", "called").
self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "", { body: data.body || "", tag: data.tag || undefined })
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window" }).then(function (windows) {
      if (windows.length) {
        return windows[0].focus();
      }
      return undefined;
    })
  );
});
