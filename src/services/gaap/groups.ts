import type { ActionHandler, TransitionHandler } from '../types';

export const handlers: Record<string, ActionHandler> = {};

export const transitions: Record<string, TransitionHandler> = {};
