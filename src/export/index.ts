// Export: ONNX graphs of the built-in models, and the static browser demo.
export * from './onnx-graph.js';
export * from './onnx-export.js';
export * from './web-demo.js';
