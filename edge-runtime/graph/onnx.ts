/** onnx-proto is CommonJS: its named export is not visible to ESM, so take it from the default export here, once. */
import pkg from 'onnx-proto';

export const onnx = pkg.onnx;
export type { onnx as O } from 'onnx-proto';
