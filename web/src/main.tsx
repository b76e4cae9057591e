import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { ApiError, configureTokens } from "./api/client";
import { App } from "./App";
import { CognitoSession } from "./auth/cognito";
import { loadConfig } from "./auth/config";
import { I18nProvider } from "./i18n/I18nProvider";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      // A refusal (4xx) will not change by asking again.
      retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
    },
  },
});

const root = createRoot(document.getElementById("root") as HTMLElement);
loadConfig().then(
  (config) => {
    const session = new CognitoSession(config);
    configureTokens(() => session.accessToken());
    root.render(
      <StrictMode>
        <QueryClientProvider client={queryClient}>
          <I18nProvider>
            <BrowserRouter>
              <App config={config} session={session} />
            </BrowserRouter>
          </I18nProvider>
        </QueryClientProvider>
      </StrictMode>,
    );
  },
  () => root.render(<p role="alert">Message Center: /config.json is missing.</p>),
);
