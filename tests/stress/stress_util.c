/*
 * Small helpers of the stress test (stress.h): files, folders and /proc.
 */
#include "stress.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *
stress_read_file(const char *path, size_t *out_size)
{
   FILE *f = fopen(path, "rb");
   if (!f)
      return NULL;
   size_t cap = 4096, size = 0;
   char *buf = malloc(cap + 1);
   for (size_t n; buf && (n = fread(buf + size, 1, cap - size, f)) > 0;) {
      size += n;
      if (size == cap) {
         char *grown = realloc(buf, cap * 2 + 1);
         if (!grown) {
            free(buf);
            buf = NULL;
            break;
         }
         buf = grown;
         cap *= 2;
      }
   }
   fclose(f);
   if (buf)
      buf[size] = '\0';
   *out_size = size;
   return buf;
}

bool
stress_files_equal(const char *a, const char *b)
{
   size_t na, nb;
   char *da = stress_read_file(a, &na), *db = stress_read_file(b, &nb);
   const bool equal = da && db && na == nb && !memcmp(da, db, na);
   free(da);
   free(db);
   return equal;
}

static int
stress_compare_names(const void *a, const void *b)
{
   return strcmp(*(char *const *)a, *(char *const *)b);
}

/* at most 64 names (stress.h) */
char **
stress_list_names(const char *path, uint32_t *out_count)
{
   DIR *dir = opendir(path);
   char **names = calloc(65, sizeof(*names));
   uint32_t count = 0;
   for (struct dirent *e; dir && names && count < 64 && (e = readdir(dir));) {
      if (e->d_name[0] != '.')
         names[count++] = strdup(e->d_name);
   }
   if (dir)
      closedir(dir);
   if (names)
      qsort(names, count, sizeof(*names), stress_compare_names);
   *out_count = count;
   return names;
}

void
stress_free_names(char **names)
{
   for (char **n = names; n && *n; n++)
      free(*n);
   free(names);
}

void
stress_empty_folder(const char *path)
{
   uint32_t count;
   char **names = stress_list_names(path, &count);
   for (uint32_t i = 0; i < count; i++) {
      char file[1024];
      snprintf(file, sizeof(file), "%s/%s", path, names[i]);
      unlink(file);
   }
   stress_free_names(names);
}

void
stress_remove_tree(const char *path)
{
   uint32_t count;
   char **names = stress_list_names(path, &count);
   for (uint32_t i = 0; i < count; i++) {
      char child[512];
      snprintf(child, sizeof(child), "%s/%s", path, names[i]);
      struct stat st;
      if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
         stress_remove_tree(child);
      else
         unlink(child);
   }
   stress_free_names(names);
   rmdir(path);
}

bool
stress_has_prefix(const char *s, const char *prefix)
{
   return !strncmp(s, prefix, strlen(prefix));
}

long
stress_proc_field_kb(const char *path, const char *field)
{
   size_t size;
   char *text = stress_read_file(path, &size);
   long value = -1;
   const char *at = text ? strstr(text, field) : NULL;
   if (at)
      value = strtol(at + strlen(field), NULL, 10);
   free(text);
   return value;
}

int
stress_count_entries(const char *path, int *out_memfds)
{
   DIR *dir = opendir(path);
   int count = 0;
   for (struct dirent *e; dir && (e = readdir(dir));) {
      if (e->d_name[0] == '.')
         continue;
      count++;
      if (out_memfds) {
         char link[600], target[256];
         snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
         const ssize_t n = readlink(link, target, sizeof(target) - 1);
         if (n > 0) {
            target[n] = '\0';
            *out_memfds += stress_has_prefix(target, "/memfd:");
         }
      }
   }
   if (dir)
      closedir(dir);
   return dir ? count : -1;
}
