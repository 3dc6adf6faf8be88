/** host/port/password/db of a redis:// URL, for transports that take options rather than a URL. */
export function redisOptionsFromUrl(url: string): { host: string; port: number; password?: string; db?: number } {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
  };
}
