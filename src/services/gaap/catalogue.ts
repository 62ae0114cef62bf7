import type { ActionHandler } from '../types';

/** Read-only catalogue: regions, prices, country codes, header black list. */
export const catalogueHandlers: Record<string, ActionHandler> = {};
