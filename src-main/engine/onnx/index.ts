export * from './graph-builder.ts';
export * from './onnx-proto.ts';
export * from './protobuf.ts';
export * from './save.ts';
export * from './tensor-data.ts';
