// Running from the TypeScript sources (tests, `tsx` dev): the worker thread registers tsx, then loads worker.ts.
import { register } from 'tsx/esm/api';

register();
const mod = await import('./worker.ts');
export default mod.default;
