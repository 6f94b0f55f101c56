import { SignJWT, jwtVerify } from 'jose';
import { randomBytes } from 'node:crypto';

/**
 * HS256 JWTs, signed and verified with jose. Each demo platform process makes its own
 * secret unless one is given, so a token from an earlier run is rejected with 401.
 */
export function createJwtAuthority({ secret, issuer = 'genwatch-demo' } = {}) {
  const key = secret ? new TextEncoder().encode(secret) : randomBytes(32);

  async function sign(subject, { expiresIn = '30d' } = {}) {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject)
      .setIssuer(issuer)
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(key);
  }

  /** @returns {Promise<string|null>} the user id, or null when the token is missing or invalid */
  async function userFromRequest(req) {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return null;
    try {
      const { payload } = await jwtVerify(match[1], key, { issuer, algorithms: ['HS256'] });
      return typeof payload.sub === 'string' ? payload.sub : null;
    } catch {
      return null;
    }
  }

  return { sign, userFromRequest };
}
