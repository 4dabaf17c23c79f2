using SignalStream.Server.Hosting;

var app = ServerApp.Build(args);
await ServerApp.PrepareAsync(app);
await app.RunAsync();
