// onnxruntime-node (1.29+) starts Microsoft's telemetry when a session is created, which writes an empty
// /tmp/mat-debug-<pid>.log per process and tries HTTPS uploads. Tests must leave nothing in /tmp and send
// nothing anywhere: import this module before onnxruntime-node.
process.env.ORT_DISABLE_TELEMETRY = '1';
