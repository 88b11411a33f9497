/** The Batch API's storage seam: files and batch states per tenant; a local directory on Node (wiring/disk-batch-storage.ts). */
import type { BatchState, FileObject } from './batch-types.js';

export interface BatchStorage {
  putFile(meta: FileObject, content: Uint8Array): Promise<void>;
  /** Appends lines to a file (output/error files grow as lines finish); creates it when absent. */
  appendFile(meta: FileObject, text: string): Promise<void>;
  getFile(id: string): Promise<FileObject | undefined>;
  readFile(id: string): Promise<Uint8Array | undefined>;
  deleteFile(id: string): Promise<boolean>;
  listFiles(tenant: string): Promise<FileObject[]>;
  putBatch(state: BatchState): Promise<void>;
  getBatch(id: string): Promise<BatchState | undefined>;
  listBatches(): Promise<BatchState[]>;
}
