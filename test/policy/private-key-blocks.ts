/** Private-key blocks of every kind for detector tests: real keys Node generates, plus OpenSSH and PGP samples. */
import { generateKeyPairSync } from 'node:crypto';

/** Real keys of every kind Node can write, plus OpenSSH and PGP blocks (formats Node does not export). */
export function privateKeyBlocks(): Array<[string, string]> {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dsa = generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 });
  const ed = generateKeyPairSync('ed25519');
  const pem = (k: typeof rsa.privateKey, type: 'pkcs1' | 'sec1' | 'pkcs8', encrypted = false) =>
    k.export({ format: 'pem', type, ...(encrypted ? { cipher: 'aes-256-cbc', passphrase: 'pw' } : {}) }) as string;
  return [
    ['RSA (PKCS#1)', pem(rsa.privateKey, 'pkcs1')],
    ['RSA, legacy encrypted PEM headers', pem(rsa.privateKey, 'pkcs1', true)],
    ['EC (SEC1)', pem(ec.privateKey, 'sec1')],
    ['DSA (PKCS#8 export of a DSA key)', pem(dsa.privateKey, 'pkcs8')],
    ['PKCS#8 PRIVATE KEY', pem(ed.privateKey, 'pkcs8')],
    ['ENCRYPTED PRIVATE KEY', pem(rsa.privateKey, 'pkcs8', true)],
    [
      'DSA PRIVATE KEY',
      '-----BEGIN DSA PRIVATE KEY-----\nMIIBuwIBAAKBgQDdX8zHvFXHmtC3kqJk0dPoCQyZ7w4dnf0Lq9d6+jMtbr4GkYe9\nAhUAx4pcMU8+d4y2yP8y6q5Kqjc1Q0s=\n-----END DSA PRIVATE KEY-----\n',
    ],
    [
      'OPENSSH PRIVATE KEY',
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDjOxIZbJ8e1ndNCXCMqq6q8tL0sXzZ6I4rZbXJ3VWQ0wAAAJgT9Bz+E/Qc\n-----END OPENSSH PRIVATE KEY-----\n',
    ],
    [
      'PGP PRIVATE KEY BLOCK',
      '-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\nlQOYBGV3Jm0BCADKz1sYyZ0Ukz6Oe4oXcB3m9RpW1hJ2vG0l0bqQ3CkKb6d8y0Yx\n=q8Xy\n-----END PGP PRIVATE KEY BLOCK-----\n',
    ],
  ];
}
