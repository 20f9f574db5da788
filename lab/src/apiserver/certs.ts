// A throwaway CA and a server certificate for the lab API server, made with
// the openssl CLI (as kind and kubeadm do with their own tooling): client-node
// and kubectl both verify the server against the CA in the kubeconfig.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Certificates {
  caPem: string;
  certPem: string;
  keyPem: string;
}

const DAYS = "30";
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || (err as Error).message}`, { cause: err });
  }
}

/** Writes ca.{crt,key}, server.{crt,key} into `dir` (which must exist) and returns the PEMs. */
export async function makeCertificates(dir: string): Promise<Certificates> {
  const f = (name: string) => join(dir, name);
  await openssl([
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.crt"),
    "-days",
    DAYS,
    "-subj",
    "/CN=xnode-lab-ca",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await openssl(["req", "-new", ...EC_KEY, "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=xnode-lab-apiserver"]);
  // Go's TLS stack ignores the CN: the SANs are what kubectl checks.
  await writeFile(
    f("server.ext"),
    ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=serverAuth", "subjectAltName=IP:127.0.0.1,DNS:localhost", ""].join(
      "\n",
    ),
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    f("server.csr"),
    "-CA",
    f("ca.crt"),
    "-CAkey",
    f("ca.key"),
    "-set_serial",
    `0x${randomBytes(8).toString("hex")}`,
    "-days",
    DAYS,
    "-extfile",
    f("server.ext"),
    "-out",
    f("server.crt"),
  ]);
  const [caPem, certPem, keyPem] = await Promise.all(["ca.crt", "server.crt", "server.key"].map((n) => readFile(f(n), "utf8")));
  return { caPem: caPem!, certPem: certPem!, keyPem: keyPem! };
}
