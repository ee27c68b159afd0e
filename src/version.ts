// Kept in code (not read from package.json) so the server needs no file system; a test keeps them equal.
export const SERVER_NAME = 'cloudflare-users-mcp';
export const SERVER_VERSION = '0.1.0';
