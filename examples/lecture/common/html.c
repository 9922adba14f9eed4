/*
 * html.c — the lecture's page: OUT/index.html shows, in lecture order, each
 * experiment that has a results.json under OUT, with the slide it
 * reproduces, its figures and captions, and the numbers it measured. Plain
 * HTML and CSS: it opens in a browser with no network.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lecture.h"

static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static cJSON *read_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = size >= 0 && size < (1 << 26) ? malloc((size_t)size + 1) : NULL;
    cJSON *json = NULL;
    if (text && fread(text, 1, (size_t)size, f) == (size_t)size) {
        text[size] = '\0';
        json = cJSON_Parse(text);
    }
    free(text);
    fclose(f);
    return json;
}

/* A number or short list, as text. */
static void put_value(FILE *f, const cJSON *v)
{
    if (cJSON_IsNumber(v)) {
        fprintf(f, "%.6g", v->valuedouble);
    } else if (cJSON_IsString(v)) {
        put_escaped(f, v->valuestring);
    } else if (cJSON_IsArray(v)) {
        int n = cJSON_GetArraySize(v), shown = 0;
        fputc('(', f);
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            if (shown == 12) {
                fprintf(f, ", … %d values", n);
                break;
            }
            fputs(shown++ ? ", " : "", f);
            put_value(f, e);
        }
        fputc(')', f);
    } else if (cJSON_IsBool(v)) {
        fputs(cJSON_IsTrue(v) ? "yes" : "no", f);
    }
}

static void put_experiment(FILE *f, const cJSON *r, const char *name)
{
    const cJSON *section = cJSON_GetObjectItem(r, "section"), *slide = cJSON_GetObjectItem(r, "slide");
    fprintf(f, "<section id=\"%s\">\n<h2>", name);
    put_escaped(f, name);
    if (cJSON_IsString(section)) {
        fputs(" <small>— ", f);
        put_escaped(f, section->valuestring);
        fputs("</small>", f);
    }
    if (cJSON_IsTrue(cJSON_GetObjectItem(r, "quick")))
        fputs(" <span class=\"quick\">quick run: small sizes</span>", f);
    fputs("</h2>\n", f);
    if (cJSON_IsString(slide)) {
        fputs("<blockquote>", f);
        put_escaped(f, slide->valuestring);
        fputs("</blockquote>\n", f);
    }
    const cJSON *fig;
    cJSON_ArrayForEach(fig, cJSON_GetObjectItem(r, "figures"))
    {
        const cJSON *file = cJSON_GetObjectItem(fig, "file"), *caption = cJSON_GetObjectItem(fig, "caption");
        if (!cJSON_IsString(file))
            continue;
        fprintf(f, "<figure><img src=\"%s/", name);
        put_escaped(f, file->valuestring);
        fputs("\" alt=\"", f);
        put_escaped(f, cJSON_IsString(caption) ? caption->valuestring : file->valuestring);
        fputs("\"><figcaption>", f);
        if (cJSON_IsString(caption))
            put_escaped(f, caption->valuestring);
        fputs("</figcaption></figure>\n", f);
    }
    const cJSON *note;
    cJSON_ArrayForEach(note, cJSON_GetObjectItem(r, "notes"))
    {
        if (!cJSON_IsString(note))
            continue;
        fputs("<p>", f);
        put_escaped(f, note->valuestring);
        fputs("</p>\n", f);
    }
    const cJSON *numbers = cJSON_GetObjectItem(r, "numbers"), *item;
    if (cJSON_GetArraySize(numbers) > 0) {
        fputs("<table>\n", f);
        cJSON_ArrayForEach(item, numbers)
        {
            fputs("<tr><th>", f);
            put_escaped(f, item->string);
            fputs("</th><td>", f);
            put_value(f, item);
            fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    fputs("</section>\n", f);
}

int lecture_write_html(const char *out)
{
    char path[1200], tmp[1210];
    snprintf(path, sizeof path, "%s/index.html", out);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "lecture: cannot write %s\n", tmp);
        return 1;
    }
    fputs("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<title>profond — Apprentissage profond et intelligence artificielle</title>\n<style>\n"
          "body { font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #222; }\n"
          "h2 small { font-weight: normal; color: #666; }\n"
          "blockquote { border-left: 4px solid #ccd; margin: 1em 0; padding: 0.2em 1em; color: #444; "
          "font-style: italic; }\n"
          /* A table whose caption wraps at the image's width. */
          "figure { display: table; margin: 1em 0; max-width: 100%; }\n"
          "figure img { display: block; max-width: 100%; height: auto; border: 1px solid #ddd; }\n"
          "figcaption { display: table-caption; caption-side: bottom; font-size: 0.9em; color: #444; "
          "padding-top: 0.3em; }\n"
          "nav { font-size: 0.95em; line-height: 1.6; }\n"
          "nav a { margin-right: 0.8em; white-space: nowrap; }\n"
          ".quick { font-size: 0.55em; font-weight: normal; background: #fe9; padding: 0.1em 0.4em; "
          "vertical-align: middle; }\n"
          "table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }\n"
          "th, td { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }\n"
          "section { border-top: 1px solid #eee; margin-top: 2em; }\n</style>\n</head>\n<body>\n"
          "<h1>Apprentissage profond et intelligence artificielle</h1>\n"
          "<p>The experiments of F. Fleuret's lecture (2019), reproduced with profond. Each section quotes the "
          "slide, shows the figures the program drew, and lists the numbers it measured.</p>\n",
          f);
    /* The results of the experiments run into this folder, in lecture
     * order; then a list of links to them, then each. */
    cJSON **results = calloc((size_t)lecture_experiment_count, sizeof *results);
    if (!results) {
        fclose(f);
        remove(tmp);
        fprintf(stderr, "lecture: out of memory writing %s\n", path);
        return 1;
    }
    int shown = 0;
    for (int i = 0; i < lecture_experiment_count; i++) {
        char file[1200];
        snprintf(file, sizeof file, "%s/%s/results.json", out, lecture_experiments[i].name);
        results[i] = read_json(file);
        shown += results[i] != NULL;
    }
    if (shown > 0) {
        fputs("<nav>", f);
        for (int i = 0; i < lecture_experiment_count; i++)
            if (results[i]) {
                fprintf(f, "<a href=\"#%s\">", lecture_experiments[i].name);
                put_escaped(f, lecture_experiments[i].name);
                fputs("</a> ", f);
            }
        fputs("</nav>\n", f);
    }
    for (int i = 0; i < lecture_experiment_count; i++)
        if (results[i]) {
            put_experiment(f, results[i], lecture_experiments[i].name);
            cJSON_Delete(results[i]);
        }
    if (shown == 0)
        fputs("<p>No experiment has been run into this folder yet.</p>\n", f);
    free(results);
    fputs("</body>\n</html>\n", f);
    bool ok = fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        fprintf(stderr, "lecture: cannot write %s\n", path);
        return 1;
    }
    return 0;
}
