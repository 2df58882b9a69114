namespace attune::core { const char* Version() { return "0.1.0"; } }
