/** Traditional DES-based crypt(3): `crypt(password, salt)` with a two-character salt. */
declare module 'unix-crypt-td-js' {
  function crypt(password: string, salt: string): string;
  export = crypt;
}
