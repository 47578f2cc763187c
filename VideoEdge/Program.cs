return await VideoEdge.Hosting.EdgeApp.RunAsync(args);
