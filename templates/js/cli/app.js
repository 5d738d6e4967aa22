// {{name}}: a command morph. `morph build` (jco componentize), then `morph run`.

export const run = {
  run() {
    console.log("Hello, world! This is {{name}}.");
  },
};
