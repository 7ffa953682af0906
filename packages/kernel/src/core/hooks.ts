import { createFilter, createHook } from '../hooks.js';
import type { ReferenceEntry } from './reference-data.js';

/** Emitted after regions were inserted or updated (after the transaction committed). */
export const regionsImported = createHook<{ codes: string[]; created: number; updated: number }>(
  'kernel.regions.imported',
);

/** Emitted once every plugin has run `init` and `ready` (before HTTP routes are registered). */
export const kernelReady = createHook<{ plugins: string[] }>('kernel.ready', { mode: 'parallel' });

/**
 * Lets a plugin adjust the categories a list shows (hide, rename for a local audience).
 * The context says which page was asked for.
 */
export const categoryList = createFilter<ReferenceEntry[], { cursor: string | undefined }>('kernel.categories.list');
