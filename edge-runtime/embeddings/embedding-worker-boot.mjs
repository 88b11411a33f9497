// Worker entry in plain JavaScript: registers tsx's loader inside the worker, then runs the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./embedding-worker.js');
