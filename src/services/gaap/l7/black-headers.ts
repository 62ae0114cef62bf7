/**
 * Header names a custom header may not use: the list DescribeBlackHeader
 * answers (one list, defined with the catalogue actions), checked by
 * CreateCustomHeader with InvalidParameterValue.HitBlacklist.
 * Compared case-insensitively.
 */
import { BLACK_HEADERS } from '../catalogue/model';

export { BLACK_HEADERS };

export const isBlackHeader = (name: string): boolean => BLACK_HEADERS.some((h) => h.toLowerCase() === name.toLowerCase());
