using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Shoal.Browser.Tests;

/// <summary>The REST API, for the steps a test sets up without the GUI (the GUI's own actions go through the browser).</summary>
internal sealed class GatewayClient : IDisposable
{
    private readonly HttpClient _http;

    public GatewayClient(string apiUrl, string token)
    {
        _http = new HttpClient { BaseAddress = new Uri(apiUrl.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Task<JsonElement> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<JsonElement> PostAsync(string path, object body) => SendAsync(HttpMethod.Post, path, body);

    /// <summary>
    /// A create right after a cluster starts: the volume entity plans on its own node's drive directory, which may not
    /// have heard every drive's publication yet (they are repeated every few seconds) and answers 507 meanwhile.
    /// Retried on 507 only, for at most 30 s.
    /// </summary>
    public async Task<JsonElement> CreateAsync(object body)
    {
        long deadline = Environment.TickCount64 + 30_000;
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "volumes") { Content = JsonContent.Create(body) };
            using HttpResponseMessage response = await _http.SendAsync(request);
            string text = await response.Content.ReadAsStringAsync();
            if ((int)response.StatusCode == 507 && Environment.TickCount64 < deadline)
            {
                await Task.Delay(500);
                continue;
            }
            Assert.True(response.IsSuccessStatusCode, $"POST volumes: HTTP {(int)response.StatusCode} {text}");
            return JsonDocument.Parse(text).RootElement.Clone();
        }
    }

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body != null)
        {
            request.Content = JsonContent.Create(body);
        }
        using HttpResponseMessage response = await _http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: HTTP {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public void Dispose() => _http.Dispose();
}
