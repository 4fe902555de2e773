// Some packages (e.g. @kubernetes-models/prometheus-operator) export their modules only under the "import"
// condition, which Jest's CommonJS resolver never asks for. When the default resolution fails, this retries
// with "import" added; jest.config.js compiles those ESM files to CommonJS like the other ESM-only packages.
module.exports = (path, options) => {
  try {
    return options.defaultResolver(path, options);
  } catch (error) {
    const conditions = options.conditions ?? ['require', 'default'];
    if (conditions.includes('import')) throw error;
    return options.defaultResolver(path, { ...options, conditions: [...conditions, 'import'] });
  }
};
