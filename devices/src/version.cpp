namespace attune::devices { const char* Version() { return "0.1.0"; } }
