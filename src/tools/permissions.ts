/**
 * Token permissions as Cloudflare names them (x-api-token-group in the
 * OpenAPI file). Create and delete have no group there, so we do not invent
 * one: we say what access is needed and where the list of groups is.
 */
export const PERMISSIONS_PAGE = 'https://developers.cloudflare.com/fundamentals/api/reference/permissions/';
export const ZERO_TRUST_USERS_WRITE = `write access to Zero Trust users, see ${PERMISSIONS_PAGE.replace('https://', '')}`;
/** What a description says (every model reads it on every turn); the auth error quotes ZERO_TRUST_USERS_WRITE, with the page. */
export const ZERO_TRUST_USERS_WRITE_SHORT = 'write access to Zero Trust users';
